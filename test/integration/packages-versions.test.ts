import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  GetPackageVersionCommand,
  ListPackageVersionsCommand,
  ListTagsForResourceCommand,
  UpdatePackageCommand,
  UpdatePackageVersionCommand,
  type PackageVersionAction,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { putTestObject } from '../support/s3.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const versionArn = (pkg: string, version: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:package/${pkg}/version/${version}`;

/** Package versions and their DRAFT → PUBLISHED ⇄ DEPRECATED lifecycle (packages.md §5, §7, §8). */
for (const backend of await testBackends()) {
  describe(`package versions (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    /** VersionIds of the artifacts uploaded in `before`. */
    const v = { a100: '', a110: '', k: '' };
    before(async () => {
      t = await startTestServer(backend);
      for (const name of ['ver-a', 'ver-life', 'ver-edit', 'ver-del', 'ver-list']) {
        await t.iot.send(new CreatePackageCommand({ packageName: name }));
      }
      // The service checks that an artifact exists (the embedded S3 store here), so upload them first.
      v.a100 = (await putTestObject(t, 'artifacts', 'ver-a/1.0.0.bin', 'a100'))!;
      v.a110 = (await putTestObject(t, 'artifacts', 'ver-a/1.1.0.bin', 'a110'))!;
      v.k = (await putTestObject(t, 'art-b', 'k', 'k'))!;
      await putTestObject(t, 'art-b', 'other', 'other');
    });
    after(async () => t?.close());

    const get = (pkg: string, version: string) => t.iot.send(new GetPackageVersionCommand({ packageName: pkg, versionName: version }));
    const act = (pkg: string, version: string, action: PackageVersionAction) =>
      t.iot.send(new UpdatePackageVersionCommand({ packageName: pkg, versionName: version, action }));

    it('creates a DRAFT version and returns exactly the modelled output', async () => {
      const created = await t.iot.send(new CreatePackageVersionCommand({
        packageName: 'ver-a',
        versionName: '1.0.0',
        description: 'first build',
        attributes: { os: 'linux', 'arch:cpu': 'arm64' },
        artifact: { s3Location: { bucket: 'artifacts', key: 'ver-a/1.0.0.bin', version: v.a100 } },
        recipe: '{"steps":[]}\nwith a newline',
        tags: { team: 'fw' },
      }));
      assert.equal(created.$metadata.httpStatusCode, 200);
      assert.equal(created.packageVersionArn, versionArn('ver-a', '1.0.0'));
      assert.equal(created.packageName, 'ver-a');
      assert.equal(created.versionName, '1.0.0');
      assert.equal(created.description, 'first build');
      assert.deepEqual(created.attributes, { os: 'linux', 'arch:cpu': 'arm64' });
      assert.equal(created.status, 'DRAFT');
      const raw = created as unknown as Record<string, unknown>;
      for (const absent of ['artifact', 'recipe', 'sbom', 'creationDate', 'errorReason']) assert.equal(raw[absent], undefined, absent);
    });

    it('reads a version back with artifact, recipe and Dates', async () => {
      const createdAt = t.clock.now();
      await t.iot.send(new CreatePackageVersionCommand({
        packageName: 'ver-a',
        versionName: '1.1.0',
        attributes: { os: 'linux' },
        artifact: { s3Location: { bucket: 'artifacts', key: 'ver-a/1.1.0.bin', version: v.a110 } },
        recipe: 'install.sh',
      }));
      const got = await get('ver-a', '1.1.0');
      assert.equal(got.packageVersionArn, versionArn('ver-a', '1.1.0'));
      assert.equal(got.packageName, 'ver-a');
      assert.equal(got.versionName, '1.1.0');
      assert.equal(got.status, 'DRAFT');
      assert.deepEqual(got.attributes, { os: 'linux' });
      assert.deepEqual(got.artifact, { s3Location: { bucket: 'artifacts', key: 'ver-a/1.1.0.bin', version: v.a110 } });
      assert.equal(got.recipe, 'install.sh');
      assert.equal(got.description, undefined);
      assert.equal(got.sbom, undefined);
      assert.equal(got.sbomValidationStatus, undefined);
      assert.equal(got.creationDate?.getTime(), createdAt);
      assert.equal(got.lastModifiedDate?.getTime(), createdAt);

      // Tags are never part of Get; they live on the ARN.
      const tags = await t.iot.send(new ListTagsForResourceCommand({ resourceArn: versionArn('ver-a', '1.0.0') }));
      assert.deepEqual(tags.tags, [{ Key: 'team', Value: 'fw' }]);
    });

    it('refuses a duplicate version with ConflictException and a version of a missing package with ValidationException', async () => {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-a', versionName: 'dup', description: 'one' }));
      const err = await expectAwsError(t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-a', versionName: 'dup' })), 'ConflictException', { status: 409 });
      assert.equal(err.resourceId, 'dup');
      assert.equal((await get('ver-a', 'dup')).description, 'one');

      await expectAwsError(t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-no-such-package', versionName: '1' })), 'ValidationException', { status: 400 });
      await expectAwsError(get('ver-no-such-package', '1'), 'ResourceNotFoundException', { status: 404 });
    });

    it('refuses an artifact whose object does not exist, and stores nothing', async () => {
      for (const s3Location of [{ bucket: 'no-such-bucket', key: 'k' }, { bucket: 'art-b', key: 'no-such-key' }, { bucket: 'art-b', key: 'k', version: 'no-such-version' }]) {
        await expectAwsError(
          t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-a', versionName: 'no-object', artifact: { s3Location } })),
          'ValidationException', { status: 400, message: /not accessible by the service/ });
      }
      await expectAwsError(get('ver-a', 'no-object'), 'ResourceNotFoundException');
    });

    it('answers 404 for a missing version on Get and Update', async () => {
      await expectAwsError(get('ver-a', 'missing'), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new UpdatePackageVersionCommand({ packageName: 'ver-a', versionName: 'missing', description: 'x' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(act('ver-a', 'missing', 'PUBLISH'), 'ResourceNotFoundException', { status: 404 });
    });

    it('walks the lifecycle: no DEPRECATE from DRAFT, repeats are no-ops, re-publishing allowed', async () => {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-life', versionName: '1' }));
      const deprecateDraft = await expectAwsError(act('ver-life', '1', 'DEPRECATE'), 'ConflictException', { status: 409 });
      assert.equal(deprecateDraft.resourceId, '1');
      assert.equal((await get('ver-life', '1')).status, 'DRAFT');

      const published = await act('ver-life', '1', 'PUBLISH');
      assert.equal(published.$metadata.httpStatusCode, 200);
      assert.equal((await get('ver-life', '1')).status, 'PUBLISHED');
      await act('ver-life', '1', 'PUBLISH');
      assert.equal((await get('ver-life', '1')).status, 'PUBLISHED');

      await act('ver-life', '1', 'DEPRECATE');
      assert.equal((await get('ver-life', '1')).status, 'DEPRECATED');
      await act('ver-life', '1', 'DEPRECATE');
      assert.equal((await get('ver-life', '1')).status, 'DEPRECATED');

      await act('ver-life', '1', 'PUBLISH');
      assert.equal((await get('ver-life', '1')).status, 'PUBLISHED');
    });

    it('edits a DRAFT freely, replaces attributes whole, and moves lastModifiedDate', async () => {
      const createdAt = t.clock.now();
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-edit', versionName: 'd', attributes: { a: '1', b: '2' } }));
      t.clock.advance(60_000);
      await t.iot.send(new UpdatePackageVersionCommand({
        packageName: 'ver-edit',
        versionName: 'd',
        description: 'edited',
        attributes: { c: '3' },
        artifact: { s3Location: { bucket: 'art-b', key: 'k' } },
        recipe: 'r1',
      }));
      const got = await get('ver-edit', 'd');
      assert.equal(got.description, 'edited');
      assert.deepEqual(got.attributes, { c: '3' });
      assert.deepEqual(got.artifact, { s3Location: { bucket: 'art-b', key: 'k' } });
      assert.equal(got.recipe, 'r1');
      assert.equal(got.status, 'DRAFT');
      assert.equal(got.creationDate?.getTime(), createdAt);
      assert.equal(got.lastModifiedDate?.getTime(), createdAt + 60_000);
    });

    it('applies field edits before the transition, so a DRAFT is edited and published in one call', async () => {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-edit', versionName: 'one-call', attributes: { a: '1' } }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'ver-edit', versionName: 'one-call', attributes: { a: '2' }, action: 'PUBLISH' }));
      const got = await get('ver-edit', 'one-call');
      assert.equal(got.status, 'PUBLISHED');
      assert.deepEqual(got.attributes, { a: '2' });
    });

    it('freezes attributes and artifact outside DRAFT but keeps description and recipe editable', async () => {
      await t.iot.send(new CreatePackageVersionCommand({
        packageName: 'ver-edit', versionName: 'frozen', attributes: { a: '1' }, artifact: { s3Location: { bucket: 'art-b', key: 'k', version: v.k } }, recipe: 'r0',
      }));
      await act('ver-edit', 'frozen', 'PUBLISH');
      for (const status of ['PUBLISHED', 'DEPRECATED'] as const) {
        if (status === 'DEPRECATED') await act('ver-edit', 'frozen', 'DEPRECATE');
        const attrs = await expectAwsError(
          t.iot.send(new UpdatePackageVersionCommand({ packageName: 'ver-edit', versionName: 'frozen', attributes: { a: '2' } })),
          'ConflictException', { status: 409 });
        assert.equal(attrs.resourceId, 'frozen');
        await expectAwsError(
          t.iot.send(new UpdatePackageVersionCommand({ packageName: 'ver-edit', versionName: 'frozen', artifact: { s3Location: { bucket: 'art-b', key: 'other' } } })),
          'ConflictException', { status: 409 });
        // A refused call changes nothing, not even the description sent along with it.
        await expectAwsError(
          t.iot.send(new UpdatePackageVersionCommand({ packageName: 'ver-edit', versionName: 'frozen', description: 'sneaky', attributes: { a: '3' } })),
          'ConflictException');

        await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'ver-edit', versionName: 'frozen', description: `in ${status}`, recipe: `recipe ${status}` }));
        const got = await get('ver-edit', 'frozen');
        assert.equal(got.status, status);
        assert.equal(got.description, `in ${status}`);
        assert.equal(got.recipe, `recipe ${status}`);
        assert.deepEqual(got.attributes, { a: '1' });
        assert.deepEqual(got.artifact, { s3Location: { bucket: 'art-b', key: 'k', version: v.k } });
      }
    });

    it('deletes from every state, refuses the default version, and deletes a missing one with 200', async () => {
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-del', versionName: 'draft', tags: { k: 'v' } }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-del', versionName: 'pub' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-del', versionName: 'dep' }));
      await act('ver-del', 'pub', 'PUBLISH');
      await act('ver-del', 'dep', 'PUBLISH');
      await act('ver-del', 'dep', 'DEPRECATE');
      await t.iot.send(new UpdatePackageCommand({ packageName: 'ver-del', defaultVersionName: 'pub' }));

      await expectAwsError(t.iot.send(new DeletePackageVersionCommand({ packageName: 'ver-del', versionName: 'pub' })), 'ValidationException', { status: 400 });
      assert.equal((await get('ver-del', 'pub')).status, 'PUBLISHED');

      for (const v of ['draft', 'dep']) {
        const out = await t.iot.send(new DeletePackageVersionCommand({ packageName: 'ver-del', versionName: v }));
        assert.equal(out.$metadata.httpStatusCode, 200);
        await expectAwsError(get('ver-del', v), 'ResourceNotFoundException', { status: 404 });
      }
      await t.iot.send(new UpdatePackageCommand({ packageName: 'ver-del', unsetDefaultVersion: true }));
      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'ver-del', versionName: 'pub' }));
      await expectAwsError(get('ver-del', 'pub'), 'ResourceNotFoundException');

      for (const [pkg, v] of [['ver-del', 'pub'], ['ver-del', 'never'], ['ver-no-such-package', 'x']]) {
        const out = await t.iot.send(new DeletePackageVersionCommand({ packageName: pkg, versionName: v }));
        assert.equal(out.$metadata.httpStatusCode, 200);
      }

      // A recreated version starts without the deleted one's tags; the package can now go.
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-del', versionName: 'draft' }));
      assert.deepEqual((await t.iot.send(new ListTagsForResourceCommand({ resourceArn: versionArn('ver-del', 'draft') }))).tags ?? [], []);
      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'ver-del', versionName: 'draft' }));
      await t.iot.send(new DeletePackageCommand({ packageName: 'ver-del' }));
    });

    it('lists versions in creation order with summaries and a status filter', async () => {
      const start = t.clock.now();
      for (const [i, v] of ['z-first', 'a-second', 'm-third', 'b-fourth'].entries()) {
        await t.iot.send(new CreatePackageVersionCommand({ packageName: 'ver-list', versionName: v, description: 'not in summaries', attributes: { i: String(i) } }));
        t.clock.advance(1_000);
      }
      await act('ver-list', 'a-second', 'PUBLISH');
      await act('ver-list', 'b-fourth', 'PUBLISH');
      await act('ver-list', 'b-fourth', 'DEPRECATE');

      const all = await t.iot.send(new ListPackageVersionsCommand({ packageName: 'ver-list' }));
      assert.equal(all.nextToken, undefined);
      const summaries = all.packageVersionSummaries ?? [];
      assert.deepEqual(summaries.map((s) => s.versionName), ['z-first', 'a-second', 'm-third', 'b-fourth']);
      assert.deepEqual(summaries.map((s) => s.status), ['DRAFT', 'PUBLISHED', 'DRAFT', 'DEPRECATED']);
      assert.equal(summaries[0].packageName, 'ver-list');
      assert.equal(summaries[0].creationDate?.getTime(), start);
      assert.ok(summaries[3].lastModifiedDate instanceof Date);
      const raw = summaries[0] as Record<string, unknown>;
      assert.equal(raw.description, undefined);
      assert.equal(raw.attributes, undefined);

      const drafts = await t.iot.send(new ListPackageVersionsCommand({ packageName: 'ver-list', status: 'DRAFT' }));
      assert.deepEqual(drafts.packageVersionSummaries?.map((s) => s.versionName), ['z-first', 'm-third']);
      const published = await t.iot.send(new ListPackageVersionsCommand({ packageName: 'ver-list', status: 'PUBLISHED' }));
      assert.deepEqual(published.packageVersionSummaries?.map((s) => s.versionName), ['a-second']);
      const deprecated = await t.iot.send(new ListPackageVersionsCommand({ packageName: 'ver-list', status: 'DEPRECATED' }));
      assert.deepEqual(deprecated.packageVersionSummaries?.map((s) => s.versionName), ['b-fourth']);
    });

    it('lists no versions for a package that does not exist', async () => {
      const out = await t.iot.send(new ListPackageVersionsCommand({ packageName: 'ver-no-such-package' }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.deepEqual(out.packageVersionSummaries ?? [], []);
      assert.equal(out.nextToken, undefined);
    });
  });
}
