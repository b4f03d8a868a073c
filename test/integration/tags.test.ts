import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type Tag,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const base = `arn:aws:iot:${REGION}:${ACCOUNT}`;
const packageArn = (name: string) => `${base}:package/${name}`;
const versionArn = (pkg: string, version: string) => `${base}:package/${pkg}/version/${version}`;
const byKey = (tags: Tag[] | undefined) => [...(tags ?? [])].sort((a, b) => (a.Key! < b.Key! ? -1 : 1));

/** TagResource, UntagResource and ListTagsForResource on package and package-version ARNs (packages.md §2). */
for (const backend of await testBackends()) {
  describe(`tags on packages and versions (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await t.iot.send(new CreatePackageCommand({ packageName: 'tg', tags: { team: 'fw', stage: 'dev' } }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'tg', versionName: '1.0', tags: { build: '42' } }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'tg', versionName: '2.0' }));
    });
    after(async () => t?.close());

    const list = async (resourceArn: string) => byKey((await t.iot.send(new ListTagsForResourceCommand({ resourceArn }))).tags);

    it('keeps the tags given at create, per resource', async () => {
      assert.deepEqual(await list(packageArn('tg')), [{ Key: 'stage', Value: 'dev' }, { Key: 'team', Value: 'fw' }]);
      assert.deepEqual(await list(versionArn('tg', '1.0')), [{ Key: 'build', Value: '42' }]);
      assert.deepEqual(await list(versionArn('tg', '2.0')), []);
    });

    it('adds, overwrites and removes tags on a package', async () => {
      const tagged = await t.iot.send(new TagResourceCommand({ resourceArn: packageArn('tg'), tags: [{ Key: 'stage', Value: 'prod' }, { Key: 'owner', Value: 'ana' }, { Key: 'empty' }] }));
      assert.equal(tagged.$metadata.httpStatusCode, 200);
      const after = await list(packageArn('tg'));
      assert.deepEqual(after.map((x) => x.Key), ['empty', 'owner', 'stage', 'team']);
      assert.deepEqual(after.filter((x) => x.Key !== 'empty'), [{ Key: 'owner', Value: 'ana' }, { Key: 'stage', Value: 'prod' }, { Key: 'team', Value: 'fw' }]);
      assert.ok(!after[0].Value, 'a tag without a value has none (or an empty one)');
      const untagged = await t.iot.send(new UntagResourceCommand({ resourceArn: packageArn('tg'), tagKeys: ['owner', 'empty', 'not-there'] }));
      assert.equal(untagged.$metadata.httpStatusCode, 200);
      assert.deepEqual(await list(packageArn('tg')), [{ Key: 'stage', Value: 'prod' }, { Key: 'team', Value: 'fw' }]);
      await t.iot.send(new UntagResourceCommand({ resourceArn: packageArn('tg'), tagKeys: [] }));
      assert.equal((await list(packageArn('tg'))).length, 2);
    });

    it('tags a package version without touching its package', async () => {
      await t.iot.send(new TagResourceCommand({ resourceArn: versionArn('tg', '2.0'), tags: [{ Key: 'channel', Value: 'beta' }, { Key: 'key with spaces/=+-@.:_', Value: 'ü' }] }));
      assert.deepEqual(await list(versionArn('tg', '2.0')), [{ Key: 'channel', Value: 'beta' }, { Key: 'key with spaces/=+-@.:_', Value: 'ü' }]);
      await t.iot.send(new UntagResourceCommand({ resourceArn: versionArn('tg', '2.0'), tagKeys: ['channel'] }));
      assert.deepEqual(await list(versionArn('tg', '2.0')), [{ Key: 'key with spaces/=+-@.:_', Value: 'ü' }]);
      assert.deepEqual(await list(packageArn('tg')), [{ Key: 'stage', Value: 'prod' }, { Key: 'team', Value: 'fw' }]);
    });

    it('answers InvalidRequestException for an ARN it cannot tag', async () => {
      const bad = [
        `${base}:widget/tg`,
        'not-an-arn',
        `arn:aws:iot:eu-west-1:${ACCOUNT}:package/tg`,
        `arn:aws:iot:${REGION}:999999999999:package/tg`,
        `arn:aws:s3:::tg`,
      ];
      for (const resourceArn of bad) {
        await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'k', Value: 'v' }] })), 'InvalidRequestException', { status: 400 });
        await expectAwsError(t.iot.send(new UntagResourceCommand({ resourceArn, tagKeys: ['k'] })), 'InvalidRequestException', { status: 400 });
        await expectAwsError(t.iot.send(new ListTagsForResourceCommand({ resourceArn })), 'InvalidRequestException', { status: 400 });
      }
    });

    it('answers ResourceNotFoundException for a package or version that does not exist', async () => {
      for (const resourceArn of [packageArn('tg-missing'), versionArn('tg', 'missing'), versionArn('tg-missing', '1.0')]) {
        await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'k', Value: 'v' }] })), 'ResourceNotFoundException', { status: 404 });
        await expectAwsError(t.iot.send(new UntagResourceCommand({ resourceArn, tagKeys: ['k'] })), 'ResourceNotFoundException', { status: 404 });
        await expectAwsError(t.iot.send(new ListTagsForResourceCommand({ resourceArn })), 'ResourceNotFoundException', { status: 404 });
      }
    });

    it('forgets the tags of deleted resources', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'tg-del', tags: { a: '1' } }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'tg-del', versionName: 'v', tags: { b: '2' } }));
      await t.iot.send(new DeletePackageVersionCommand({ packageName: 'tg-del', versionName: 'v' }));
      await expectAwsError(t.iot.send(new ListTagsForResourceCommand({ resourceArn: versionArn('tg-del', 'v') })), 'ResourceNotFoundException');
      await t.iot.send(new DeletePackageCommand({ packageName: 'tg-del' }));
      await expectAwsError(t.iot.send(new ListTagsForResourceCommand({ resourceArn: packageArn('tg-del') })), 'ResourceNotFoundException');
    });

    it('allows 50 tags per resource and answers LimitExceededException beyond', async () => {
      await t.iot.send(new CreatePackageCommand({ packageName: 'tg-limit' }));
      const arn = packageArn('tg-limit');
      const tags = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ Key: `k${from + i}`, Value: 'v' }));

      await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn: arn, tags: tags(0, 51) })), 'LimitExceededException', { status: 410 });
      assert.deepEqual(await list(arn), []);

      await t.iot.send(new TagResourceCommand({ resourceArn: arn, tags: tags(0, 45) }));
      await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn: arn, tags: tags(45, 6) })), 'LimitExceededException', { status: 410 });
      assert.equal((await list(arn)).length, 45, 'a refused call adds nothing');
      await t.iot.send(new TagResourceCommand({ resourceArn: arn, tags: tags(45, 5) }));
      assert.equal((await list(arn)).length, 50);
      // Overwriting existing keys at the limit is fine.
      await t.iot.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'k0', Value: 'changed' }] }));
      const all = await t.iot.send(new ListTagsForResourceCommand({ resourceArn: arn }));
      assert.equal(all.tags?.length, 50);
      assert.equal(all.nextToken, undefined);
      assert.equal(all.tags?.find((x) => x.Key === 'k0')?.Value, 'changed');
      await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'one-more', Value: 'v' }] })), 'LimitExceededException');
    });

    it('validates tag keys and values with InvalidRequestException', async () => {
      const arn = versionArn('tg', '1.0');
      for (const tag of [{ Key: 'aws:reserved', Value: 'v' }, { Key: '', Value: 'v' }, { Key: 'k'.repeat(129), Value: 'v' }, { Key: 'bad#key', Value: 'v' }, { Key: 'k', Value: 'v'.repeat(257) }]) {
        await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn: arn, tags: [tag] })), 'InvalidRequestException', { status: 400 });
      }
      await expectAwsError(t.iot.send(new ListTagsForResourceCommand({ resourceArn: arn, nextToken: 'garbage' })), 'InvalidRequestException', { status: 400 });
      assert.deepEqual(await list(arn), [{ Key: 'build', Value: '42' }]);
    });
  });
}
