import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  GetPackageCommand,
  GetPackageVersionCommand,
  ListPackageVersionsCommand,
  UpdatePackageCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ROUNDS = 12;
const outcome = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name);

/**
 * Racing requests leave the catalog consistent (on PostgreSQL they run truly in parallel): no
 * version outlives its package, no default names a deleted version, and every answer is one AWS
 * could give — never a 500.
 */
for (const backend of await testBackends()) {
  describe(`package catalog under concurrent requests (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      // A small versions-per-package quota (each race below needs only one version per package).
      t = await startTestServer(backend, { limits: { maxVersionsPerPackage: 3 } });
    });
    after(async () => t?.close());

    const packageExists = (packageName: string) => t.iot.send(new GetPackageCommand({ packageName })).then(() => true, () => false);

    it('never leaves a version behind a package deleted at the same moment', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const packageName = `race-del-${i}`;
        await t.iot.send(new CreatePackageCommand({ packageName }));
        const [del, create] = await Promise.allSettled([
          t.iot.send(new DeletePackageCommand({ packageName })),
          t.iot.send(new CreatePackageVersionCommand({ packageName, versionName: 'v' })),
        ]);
        const versions = (await t.iot.send(new ListPackageVersionsCommand({ packageName }))).packageVersionSummaries ?? [];
        if (await packageExists(packageName)) {
          // The version won: the delete saw it and was refused.
          assert.deepEqual([outcome(del), outcome(create)], ['ValidationException', 'ok']);
          assert.equal(versions.length, 1);
        } else {
          // The delete won: the version was refused for want of a package.
          assert.deepEqual([outcome(del), outcome(create)], ['ok', 'ValidationException']);
          assert.deepEqual(versions, [], `round ${i}: a version survived its package`);
        }
      }
    });

    it('never names a default version that is being deleted', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const packageName = `race-default-${i}`;
        await t.iot.send(new CreatePackageCommand({ packageName }));
        await t.iot.send(new CreatePackageVersionCommand({ packageName, versionName: 'v' }));
        await t.iot.send(new UpdatePackageVersionCommand({ packageName, versionName: 'v', action: 'PUBLISH' }));
        const [update, del] = await Promise.allSettled([
          t.iot.send(new UpdatePackageCommand({ packageName, defaultVersionName: 'v' })),
          t.iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'v' })),
        ]);
        const defaultVersionName = (await t.iot.send(new GetPackageCommand({ packageName }))).defaultVersionName;
        const versionExists = await t.iot.send(new GetPackageVersionCommand({ packageName, versionName: 'v' })).then(() => true, () => false);
        if (defaultVersionName === 'v') {
          assert.ok(versionExists, `round ${i}: the default version was deleted`);
          assert.deepEqual([outcome(update), outcome(del)], ['ok', 'ValidationException']);
        } else {
          assert.equal(versionExists, false);
          assert.deepEqual([outcome(update), outcome(del)], ['ResourceNotFoundException', 'ok']);
        }
      }
    });

    it('keeps the versions-per-package quota under parallel creates', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'quota' }));
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => t.iot.send(new CreatePackageVersionCommand({ packageName: 'quota', versionName: `v${i}` }))),
      );
      assert.deepEqual(results.map(outcome).sort(), ['ServiceQuotaExceededException', 'ServiceQuotaExceededException', 'ServiceQuotaExceededException', 'ok', 'ok', 'ok']);
      const versions = (await t.iot.send(new ListPackageVersionsCommand({ packageName: 'quota' }))).packageVersionSummaries ?? [];
      assert.equal(versions.length, 3);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 402);
      // Deleting one makes room again.
      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'quota', versionName: versions[0].versionName! }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'quota', versionName: 'after-delete' }));
    });
  });
}
