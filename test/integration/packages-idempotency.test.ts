import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AssociateSbomWithPackageVersionCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  GetPackageCommand,
  GetPackageConfigurationCommand,
  GetPackageVersionCommand,
  ListPackagesCommand,
  ListPackageVersionsCommand,
  UpdatePackageCommand,
  UpdatePackageConfigurationCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { putTestObject } from '../support/s3.js';
import { json, minimalSpdx } from '../support/sbom-fixtures.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

/** clientToken semantics (packages.md §6): replay on a match, refuse a reuse with other parameters. */
for (const backend of await testBackends()) {
  describe(`package catalog idempotency (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    async function packageNames(prefix: string): Promise<string[]> {
      const out = await t.iot.send(new ListPackagesCommand({ maxResults: 100 }));
      return (out.packageSummaries ?? []).map((s) => s.packageName!).filter((n) => n.startsWith(prefix));
    }

    it('replays CreatePackage for the same token and parameters: both succeed, one package', async () => {
      const clientToken = randomUUID();
      const first = await t.iot.send(new CreatePackageCommand({ packageName: 'idem-a', description: 'd', tags: { k: 'v' }, clientToken }));
      t.clock.advance(5_000);
      const second = await t.iot.send(new CreatePackageCommand({ packageName: 'idem-a', description: 'd', tags: { k: 'v' }, clientToken }));
      assert.equal(second.$metadata.httpStatusCode, 200);
      assert.deepEqual(
        { packageName: second.packageName, packageArn: second.packageArn, description: second.description },
        { packageName: first.packageName, packageArn: first.packageArn, description: first.description },
      );
      assert.deepEqual(await packageNames('idem-a'), ['idem-a']);
      const got = await t.iot.send(new GetPackageCommand({ packageName: 'idem-a' }));
      assert.equal(got.lastModifiedDate?.getTime(), got.creationDate?.getTime(), 'the replay changed nothing');
    });

    it('refuses the same token with different parameters and keeps the first result', async () => {
      const clientToken = randomUUID();
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-b', description: 'first', clientToken }));
      await expectAwsError(t.iot.send(new CreatePackageCommand({ packageName: 'idem-b', description: 'second', clientToken })), 'ValidationException', { status: 400 });
      await expectAwsError(t.iot.send(new CreatePackageCommand({ packageName: 'idem-b-other', clientToken })), 'ValidationException', { status: 400 });
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'idem-b' }))).description, 'first');
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'idem-b-other' })), 'ResourceNotFoundException');
    });

    it('gives the normal ConflictException without token reuse', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-c', clientToken: randomUUID() }));
      const err = await expectAwsError(t.iot.send(new CreatePackageCommand({ packageName: 'idem-c', clientToken: randomUUID() })), 'ConflictException', { status: 409 });
      assert.equal(err.resourceId, 'idem-c');
      // The SDK fills in a fresh token when none is given: a plain retry is a conflict too.
      await expectAwsError(t.iot.send(new CreatePackageCommand({ packageName: 'idem-c' })), 'ConflictException');
    });

    it('keeps tokens per operation', async () => {
      const clientToken = randomUUID();
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-d', clientToken }));
      await t.iot.send(new UpdatePackageCommand({ packageName: 'idem-d', description: 'updated', clientToken }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'idem-d' }))).description, 'updated');
    });

    it('replays version creation and updates, returning the first response', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-v' }));
      const createToken = randomUUID();
      const input = { packageName: 'idem-v', versionName: '1', attributes: { a: 'b' }, clientToken: createToken };
      const first = await t.iot.send(new CreatePackageVersionCommand(input));
      const publishToken = randomUUID();
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'idem-v', versionName: '1', action: 'PUBLISH', clientToken: publishToken }));

      const replay = await t.iot.send(new CreatePackageVersionCommand(input));
      assert.equal(replay.packageVersionArn, first.packageVersionArn);
      assert.equal(replay.status, 'DRAFT', 'a replay answers what the first call answered');
      assert.deepEqual(replay.attributes, { a: 'b' });
      assert.equal((await t.iot.send(new ListPackageVersionsCommand({ packageName: 'idem-v' }))).packageVersionSummaries?.length, 1);

      t.clock.advance(60_000);
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'idem-v', versionName: '1', action: 'PUBLISH', clientToken: publishToken }));
      const got = await t.iot.send(new GetPackageVersionCommand({ packageName: 'idem-v', versionName: '1' }));
      assert.equal(got.status, 'PUBLISHED');
      assert.equal(got.lastModifiedDate?.getTime(), got.creationDate?.getTime(), 'the replayed update wrote nothing');
      await expectAwsError(
        t.iot.send(new UpdatePackageVersionCommand({ packageName: 'idem-v', versionName: '1', action: 'DEPRECATE', clientToken: publishToken })),
        'ValidationException');
      assert.equal((await t.iot.send(new GetPackageVersionCommand({ packageName: 'idem-v', versionName: '1' }))).status, 'PUBLISHED');
    });

    it('records nothing for a failed call, so the same token works once the cause is gone', async () => {
      const clientToken = randomUUID();
      await expectAwsError(t.iot.send(new CreatePackageVersionCommand({ packageName: 'idem-late', versionName: '1', clientToken })), 'ValidationException');
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-late' }));
      const created = await t.iot.send(new CreatePackageVersionCommand({ packageName: 'idem-late', versionName: '1', clientToken }));
      assert.equal(created.status, 'DRAFT');
    });

    it('forgets a token after its window (about 8 hours)', async () => {
      const clientToken = randomUUID();
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-old', description: 'one', clientToken }));
      t.clock.advance(7 * 3600 * 1000);
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-old', description: 'one', clientToken }));
      t.clock.advance(2 * 3600 * 1000);
      // Past the window the request is new again, and the name is taken.
      await expectAwsError(t.iot.send(new CreatePackageCommand({ packageName: 'idem-old', description: 'one', clientToken })), 'ConflictException');
      // The expired token can be used for something else.
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-old-2', clientToken }));
      await t.iot.send(new DeletePackageCommand({ packageName: 'idem-old-2', clientToken: randomUUID() }));
    });

    it('replays concurrent identical requests without a server error', async () => {
      const clientToken = randomUUID();
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () => t.iot.send(new CreatePackageCommand({ packageName: 'idem-race', description: 'r', clientToken }))),
      );
      assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name)), Array(6).fill('ok'));
      for (const r of results) if (r.status === 'fulfilled') assert.equal(r.value.packageArn, results[0].status === 'fulfilled' ? results[0].value.packageArn : '');
      assert.deepEqual(await packageNames('idem-race'), ['idem-race']);
    });

    it('answers concurrent creates of one name with one success and ConflictExceptions', async () => {
      const packages = await Promise.allSettled(Array.from({ length: 6 }, () => t.iot.send(new CreatePackageCommand({ packageName: 'idem-race-2' }))));
      const names = packages.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name)).sort();
      assert.deepEqual(names, ['ConflictException', 'ConflictException', 'ConflictException', 'ConflictException', 'ConflictException', 'ok']);

      const versions = await Promise.allSettled(
        Array.from({ length: 6 }, () => t.iot.send(new CreatePackageVersionCommand({ packageName: 'idem-race-2', versionName: 'v' }))),
      );
      const outcomes = versions.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name)).sort();
      assert.deepEqual(outcomes, ['ConflictException', 'ConflictException', 'ConflictException', 'ConflictException', 'ConflictException', 'ok']);
    });

    it('replays SBOM association and package configuration updates', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'idem-sbom' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'idem-sbom', versionName: '1' }));
      // Two versions of the SBOM object: the service checks that the one named exists.
      const v1 = await putTestObject(t, 'sboms', 'idem.spdx.json', json(minimalSpdx()));
      const v2 = await putTestObject(t, 'sboms', 'idem.spdx.json', json(minimalSpdx()));
      const sbom = { s3Location: { bucket: 'sboms', key: 'idem.spdx.json', version: v1 } };
      const clientToken = randomUUID();
      const first = await t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'idem-sbom', versionName: '1', sbom, clientToken }));
      const again = await t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'idem-sbom', versionName: '1', sbom, clientToken }));
      assert.deepEqual(again.sbom, first.sbom);
      assert.equal(again.sbomValidationStatus, 'IN_PROGRESS');
      await expectAwsError(
        t.iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'idem-sbom', versionName: '1', sbom: { s3Location: { ...sbom.s3Location, version: v2 } }, clientToken })),
        'ValidationException');
      assert.deepEqual((await t.iot.send(new GetPackageVersionCommand({ packageName: 'idem-sbom', versionName: '1' }))).sbom, sbom);

      const configToken = randomUUID();
      const config = { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/idem-role' };
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: config, clientToken: configToken }));
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: config, clientToken: configToken }));
      await expectAwsError(
        t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: false }, clientToken: configToken })),
        'ValidationException');
      assert.deepEqual((await t.iot.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig, config);
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: false } }));
    });
  });
}
