import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  GetPackageCommand,
  ListPackagesCommand,
  ListTagsForResourceCommand,
  UpdatePackageCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const packageArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:package/${name}`;

/** Packages: CreatePackage, GetPackage, UpdatePackage, DeletePackage, ListPackages (packages.md §5). */
for (const backend of await testBackends()) {
  describe(`packages (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    async function publishedVersion(pkg: string, version: string): Promise<void> {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: pkg, versionName: version }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: pkg, versionName: version, action: 'PUBLISH' }));
    }

    it('creates a package and reads it back with Dates and no default version', async () => {
      const createdAt = t.clock.now();
      const created = await t.iot.send(new CreatePackageCommand({ packageName: 'crud-a', description: 'first package' }));
      assert.equal(created.$metadata.httpStatusCode, 200);
      assert.equal(created.packageName, 'crud-a');
      assert.equal(created.packageArn, packageArn('crud-a'));
      assert.equal(created.description, 'first package');

      const got = await t.iot.send(new GetPackageCommand({ packageName: 'crud-a' }));
      assert.equal(got.packageName, 'crud-a');
      assert.equal(got.packageArn, packageArn('crud-a'));
      assert.equal(got.description, 'first package');
      assert.equal(got.defaultVersionName, undefined);
      assert.ok(got.creationDate instanceof Date);
      assert.ok(got.lastModifiedDate instanceof Date);
      assert.equal(got.creationDate.getTime(), createdAt);
      assert.equal(got.lastModifiedDate.getTime(), createdAt);
    });

    it('leaves an absent description out and accepts an empty one', async () => {
      const bare = await t.iot.send(new CreatePackageCommand({ packageName: 'crud-bare' }));
      assert.equal(bare.description, undefined);
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-bare' }))).description, undefined);

      const empty = await t.iot.send(new CreatePackageCommand({ packageName: 'crud-empty-desc', description: '' }));
      assert.equal(empty.description, '');
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-empty-desc' }))).description, '');
    });

    it('accepts the whole name alphabet and the longest name', async () => {
      const name = 'Az09-_.'.padEnd(128, 'x');
      await t.iot.send(new CreatePackageCommand({ packageName: name }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: name }))).packageArn, packageArn(name));
    });

    it('refuses a duplicate name with ConflictException naming the resource', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'crud-dup', description: 'original' }));
      const err = await expectAwsError(t.iot.send(new CreatePackageCommand({ packageName: 'crud-dup', description: 'other' })), 'ConflictException', { status: 409 });
      assert.equal(err.resourceId, 'crud-dup');
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-dup' }))).description, 'original');
    });

    it('answers 404 for a package that does not exist', async () => {
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'crud-missing' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new UpdatePackageCommand({ packageName: 'crud-missing', description: 'x' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('updates the description and moves lastModifiedDate, not creationDate', async () => {
      const createdAt = t.clock.now();
      await t.iot.send(new CreatePackageCommand({ packageName: 'crud-upd', description: 'before' }));
      t.clock.advance(90_000);
      const updated = await t.iot.send(new UpdatePackageCommand({ packageName: 'crud-upd', description: 'after' }));
      assert.equal(updated.$metadata.httpStatusCode, 200);
      const got = await t.iot.send(new GetPackageCommand({ packageName: 'crud-upd' }));
      assert.equal(got.description, 'after');
      assert.equal(got.creationDate?.getTime(), createdAt);
      assert.equal(got.lastModifiedDate?.getTime(), createdAt + 90_000);

      // An update without a description keeps the one stored.
      t.clock.advance(1_500);
      await t.iot.send(new UpdatePackageCommand({ packageName: 'crud-upd' }));
      const again = await t.iot.send(new GetPackageCommand({ packageName: 'crud-upd' }));
      assert.equal(again.description, 'after');
      assert.equal(again.lastModifiedDate?.getTime(), createdAt + 91_500);
    });

    it('sets, changes and unsets the default version under the state rules', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'crud-def' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'crud-def', versionName: 'draft' }));
      await publishedVersion('crud-def', '1.0');
      await publishedVersion('crud-def', '2.0');
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'crud-def', versionName: '1.0', action: 'DEPRECATE' }));

      await expectAwsError(t.iot.send(new UpdatePackageCommand({ packageName: 'crud-def', defaultVersionName: 'nope' })), 'ResourceNotFoundException', { status: 404 });
      const draft = await expectAwsError(t.iot.send(new UpdatePackageCommand({ packageName: 'crud-def', defaultVersionName: 'draft' })), 'ConflictException', { status: 409 });
      assert.equal(draft.resourceId, 'draft');
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-def' }))).defaultVersionName, undefined);

      await t.iot.send(new UpdatePackageCommand({ packageName: 'crud-def', defaultVersionName: '2.0' }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-def' }))).defaultVersionName, '2.0');
      // A DEPRECATED version may be the default too.
      await t.iot.send(new UpdatePackageCommand({ packageName: 'crud-def', defaultVersionName: '1.0' }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-def' }))).defaultVersionName, '1.0');

      await expectAwsError(
        t.iot.send(new UpdatePackageCommand({ packageName: 'crud-def', defaultVersionName: '2.0', unsetDefaultVersion: true })),
        'ValidationException',
        { status: 400, message: 'You cannot name a defaultVersion and set unsetDefaultVersion equal to true at the same time' },
      );
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-def' }))).defaultVersionName, '1.0');

      // unsetDefaultVersion: false is no instruction at all.
      await t.iot.send(new UpdatePackageCommand({ packageName: 'crud-def', defaultVersionName: '2.0', unsetDefaultVersion: false }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-def' }))).defaultVersionName, '2.0');
      await t.iot.send(new UpdatePackageCommand({ packageName: 'crud-def', unsetDefaultVersion: true }));
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-def' }))).defaultVersionName, undefined);
    });

    it('deletes only an empty package; a missing one deletes with 200', async () => {
      const missing = await t.iot.send(new DeletePackageCommand({ packageName: 'crud-never-existed' }));
      assert.equal(missing.$metadata.httpStatusCode, 200);

      await t.iot.send(new CreatePackageCommand({ packageName: 'crud-del', tags: { team: 'a' } }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'crud-del', versionName: 'v1' }));
      await expectAwsError(t.iot.send(new DeletePackageCommand({ packageName: 'crud-del' })), 'ValidationException', { status: 400 });
      assert.equal((await t.iot.send(new GetPackageCommand({ packageName: 'crud-del' }))).packageName, 'crud-del');

      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'crud-del', versionName: 'v1' }));
      const deleted = await t.iot.send(new DeletePackageCommand({ packageName: 'crud-del' }));
      assert.equal(deleted.$metadata.httpStatusCode, 200);
      await expectAwsError(t.iot.send(new GetPackageCommand({ packageName: 'crud-del' })), 'ResourceNotFoundException', { status: 404 });
      // Deleting again is still fine.
      await t.iot.send(new DeletePackageCommand({ packageName: 'crud-del' }));

      // A new package of the same name starts clean: no tags, no versions, no default.
      await t.iot.send(new CreatePackageCommand({ packageName: 'crud-del' }));
      const tags = await t.iot.send(new ListTagsForResourceCommand({ resourceArn: packageArn('crud-del') }));
      assert.deepEqual(tags.tags ?? [], []);
    });

    it('lists summaries by name without ARN or description, with the default version', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'crud-list-b', description: 'hidden in lists' }));
      await t.iot.send(new CreatePackageCommand({ packageName: 'crud-list-a' }));
      await publishedVersion('crud-list-b', '3.1');
      await t.iot.send(new UpdatePackageCommand({ packageName: 'crud-list-b', defaultVersionName: '3.1' }));

      const list = await t.iot.send(new ListPackagesCommand({ maxResults: 100 }));
      assert.equal(list.nextToken, undefined);
      const summaries = list.packageSummaries ?? [];
      const names = summaries.map((s) => s.packageName!);
      const a = names.indexOf('crud-list-a');
      const b = names.indexOf('crud-list-b');
      assert.ok(a >= 0 && b > a, `crud-list-a before crud-list-b in ${names.join(',')}`);
      const summary = summaries[b] as Record<string, unknown>;
      assert.equal(summary.defaultVersionName, '3.1');
      assert.ok(summary.creationDate instanceof Date);
      assert.ok(summary.lastModifiedDate instanceof Date);
      assert.equal(summary.packageArn, undefined);
      assert.equal(summary.description, undefined);
      assert.equal((summaries[a] as Record<string, unknown>).defaultVersionName, undefined);
    });
  });
}
