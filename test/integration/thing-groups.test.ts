import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateThingGroupCommand,
  DeleteThingGroupCommand,
  DescribeThingGroupCommand,
  ListTagsForResourceCommand,
  ListThingGroupsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateThingGroupCommand,
  type ListThingGroupsCommandInput,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const groupArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${name}`;

for (const backend of await testBackends()) {
  describe(`thing groups (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    const create = (thingGroupName: string, parentGroupName?: string) => t.iot.send(new CreateThingGroupCommand({ thingGroupName, parentGroupName }));
    const describeGroup = (thingGroupName: string) => t.iot.send(new DescribeThingGroupCommand({ thingGroupName }));

    it('creates nested groups and describes their hierarchy root → parent', async () => {
      const rootCreated = t.clock.now();
      const root = await create('fleet');
      assert.equal(root.thingGroupArn, groupArn('fleet'));
      assert.match(root.thingGroupId!, UUID);
      t.clock.advance(1500);
      await create('europe', 'fleet');
      await create('berlin', 'europe');

      const r = await describeGroup('fleet');
      assert.equal(r.thingGroupId, root.thingGroupId);
      assert.equal(r.version, 1);
      assert.deepEqual(r.thingGroupProperties, {});
      // A root group's metadata carries only the creation date.
      assert.deepEqual(Object.keys(r.thingGroupMetadata!), ['creationDate']);
      assert.equal(r.thingGroupMetadata?.creationDate?.getTime(), rootCreated);

      const b = await describeGroup('berlin');
      assert.equal(b.thingGroupMetadata?.parentGroupName, 'europe');
      assert.deepEqual(b.thingGroupMetadata?.rootToParentThingGroups, [
        { groupName: 'fleet', groupArn: groupArn('fleet') },
        { groupName: 'europe', groupArn: groupArn('europe') },
      ]);
      assert.equal(b.thingGroupMetadata?.creationDate?.getTime(), rootCreated + 1500);
      const e = await describeGroup('europe');
      assert.deepEqual(e.thingGroupMetadata?.rootToParentThingGroups, [{ groupName: 'fleet', groupArn: groupArn('fleet') }]);

      await expectAwsError(describeGroup('nowhere'), 'ResourceNotFoundException', { status: 404 });
    });

    it('CreateThingGroup is idempotent for identical properties and refuses different ones', async () => {
      const props = { thingGroupDescription: 'Line 1 devices', attributePayload: { attributes: { plant: 'p1', line: '1' } } };
      const first = await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'line1', thingGroupProperties: props, tags: [{ Key: 'a', Value: 'b' }] }));
      // Same properties, different tags: still the same group.
      const again = await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'line1', thingGroupProperties: props }));
      assert.equal(again.thingGroupId, first.thingGroupId);
      assert.equal((await describeGroup('line1')).version, 1);

      const err = await expectAwsError(
        t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'line1', thingGroupProperties: { thingGroupDescription: 'other' } })),
        'ResourceAlreadyExistsException',
        { status: 409, message: 'Thing Group line1 already exists in current account with different properties' },
      );
      assert.equal(err.resourceId, first.thingGroupId);
      assert.equal(err.resourceArn, groupArn('line1'));
      // A different parent is a different group too.
      await create('plant');
      await expectAwsError(t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'line1', parentGroupName: 'plant', thingGroupProperties: props })), 'ResourceAlreadyExistsException');

      const d = await describeGroup('line1');
      assert.deepEqual(d.thingGroupProperties, { thingGroupDescription: 'Line 1 devices', attributePayload: { attributes: { line: '1', plant: 'p1' } } });
    });

    it('refuses a missing parent, bad names and too many attributes with InvalidRequestException', async () => {
      await expectAwsError(create('orphan', 'no-such-parent'), 'InvalidRequestException', { status: 400, message: 'no-such-parent' });
      await expectAwsError(describeGroup('orphan'), 'ResourceNotFoundException');
      await expectAwsError(create('bad/name'), 'InvalidRequestException', { message: "at 'thingGroupName' failed to satisfy constraint" });
      const attributes = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
      await expectAwsError(
        t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'wide', thingGroupProperties: { attributePayload: { attributes } } })),
        'InvalidRequestException', { message: 'at most 50 attributes' },
      );
      await expectAwsError(
        t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'ctl', thingGroupProperties: { thingGroupDescription: 'tab\there' } })),
        'InvalidRequestException', { message: "at 'thingGroupProperties.thingGroupDescription'" },
      );
      await expectAwsError(
        t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'tagged', tags: [{ Key: 'aws:x', Value: 'v' }] })),
        'InvalidRequestException', { message: 'aws:' },
      );
    });

    it('limits the hierarchy to 7 levels', async () => {
      let parent: string | undefined;
      for (let level = 1; level <= 7; level++) {
        await create(`deep${level}`, parent);
        parent = `deep${level}`;
      }
      await expectAwsError(create('deep8', 'deep7'), 'InvalidRequestException', { status: 400, message: '7 levels' });
      const d = await describeGroup('deep7');
      assert.deepEqual(d.thingGroupMetadata?.rootToParentThingGroups?.map((g) => g.groupName), ['deep1', 'deep2', 'deep3', 'deep4', 'deep5', 'deep6']);
    });

    it('limits a group to 100 direct children', async () => {
      await create('wide-parent');
      for (let i = 0; i < 100; i++) await create(`child${String(i).padStart(3, '0')}`, 'wide-parent');
      await expectAwsError(create('child100', 'wide-parent'), 'InvalidRequestException', { message: '100 child groups' });
      // Grandchildren do not count against the grandparent.
      await create('grandchild', 'child000');
      const children = await t.iot.send(new ListThingGroupsCommand({ parentGroup: 'wide-parent', recursive: false, maxResults: 250 }));
      assert.equal(children.thingGroups?.length, 100);
    });

    it('UpdateThingGroup merges or replaces properties, returns the new version and checks expectedVersion', async () => {
      await t.iot.send(new CreateThingGroupCommand({
        thingGroupName: 'upd', thingGroupProperties: { thingGroupDescription: 'before', attributePayload: { attributes: { a: '1', b: '2' } } },
      }));
      const v2 = await t.iot.send(new UpdateThingGroupCommand({
        thingGroupName: 'upd', thingGroupProperties: { attributePayload: { attributes: { a: '', c: '3' }, merge: true } }, expectedVersion: 1,
      }));
      assert.equal(v2.version, 2);
      let d = await describeGroup('upd');
      assert.deepEqual(d.thingGroupProperties, { thingGroupDescription: 'before', attributePayload: { attributes: { b: '2', c: '3' } } });
      assert.equal(d.version, 2);

      const v3 = await t.iot.send(new UpdateThingGroupCommand({
        thingGroupName: 'upd', thingGroupProperties: { thingGroupDescription: 'after', attributePayload: { attributes: { z: '26' } } },
      }));
      assert.equal(v3.version, 3);
      d = await describeGroup('upd');
      assert.deepEqual(d.thingGroupProperties, { thingGroupDescription: 'after', attributePayload: { attributes: { z: '26' } } });

      await expectAwsError(
        t.iot.send(new UpdateThingGroupCommand({ thingGroupName: 'upd', thingGroupProperties: {}, expectedVersion: 1 })),
        'VersionConflictException', { status: 409, message: 'The version for thing group upd does not match the expected version.' },
      );
      assert.equal((await describeGroup('upd')).version, 3);
      // thingGroupProperties is required.
      await expectAwsError(
        t.iot.send(new UpdateThingGroupCommand({ thingGroupName: 'upd' } as never)),
        'InvalidRequestException', { message: "Value null at 'thingGroupProperties' failed to satisfy constraint: Member must not be null" },
      );
      await expectAwsError(
        t.iot.send(new UpdateThingGroupCommand({ thingGroupName: 'ghost', thingGroupProperties: {} })),
        'ResourceNotFoundException', { status: 404 },
      );
      // An empty property set changes nothing but still counts as an update.
      assert.equal((await t.iot.send(new UpdateThingGroupCommand({ thingGroupName: 'upd', thingGroupProperties: {}, expectedVersion: 3 }))).version, 4);
      assert.equal((await describeGroup('upd')).thingGroupProperties?.thingGroupDescription, 'after');
    });

    it('DeleteThingGroup refuses groups with children, ignores missing groups and checks expectedVersion', async () => {
      await create('del-root');
      await create('del-child', 'del-root');
      const err = await expectAwsError(t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'del-root' })), 'InvalidRequestException', { status: 400 });
      assert.equal(err.message, 'Cannot delete thing group : del-root when there are still child groups attached to it');

      await expectAwsError(t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'del-child', expectedVersion: 5 })), 'VersionConflictException', { status: 409 });
      await t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'del-child', expectedVersion: 1 }));
      await expectAwsError(describeGroup('del-child'), 'ResourceNotFoundException');
      await t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'del-root' }));
      const missing = await t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'del-root', expectedVersion: 3 }));
      assert.equal(missing.$metadata.httpStatusCode, 200);
    });

    it('tags groups at creation and through TagResource; deleting the group drops its tags', async () => {
      const created = await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'tagged-group', tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'a' }] }));
      const list = async () => (await t.iot.send(new ListTagsForResourceCommand({ resourceArn: created.thingGroupArn }))).tags;
      assert.deepEqual(await list(), [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'a' }]);
      await t.iot.send(new TagResourceCommand({ resourceArn: created.thingGroupArn, tags: [{ Key: 'team', Value: 'b' }, { Key: 'x', Value: '' }] }));
      await t.iot.send(new UntagResourceCommand({ resourceArn: created.thingGroupArn, tagKeys: ['env'] }));
      assert.deepEqual(await list(), [{ Key: 'team', Value: 'b' }, { Key: 'x', Value: '' }]);

      await t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'tagged-group' }));
      await expectAwsError(t.iot.send(new ListTagsForResourceCommand({ resourceArn: created.thingGroupArn })), 'ResourceNotFoundException');
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'tagged-group' }));
      assert.deepEqual(await list(), []);
      await expectAwsError(t.iot.send(new TagResourceCommand({ resourceArn: groupArn('not-there'), tags: [{ Key: 'k', Value: 'v' }] })), 'ResourceNotFoundException');
    });
  });

  describe(`ListThingGroups (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      // a ─ a1 ─ a11      b ─ b1      c
      //   └ a2 ─ a_x
      const tree: [string, string?][] = [['a'], ['b'], ['c'], ['a1', 'a'], ['a2', 'a'], ['a11', 'a1'], ['a_x', 'a2'], ['b1', 'b']];
      for (const [thingGroupName, parentGroupName] of tree) await t.iot.send(new CreateThingGroupCommand({ thingGroupName, parentGroupName }));
    });
    after(async () => t?.close());

    const names = async (input: ListThingGroupsCommandInput) => {
      const out = await t.iot.send(new ListThingGroupsCommand(input));
      return out.thingGroups?.map((g) => g.groupName);
    };

    it('lists every group without a parent filter, and only roots with recursive=false', async () => {
      assert.deepEqual(await names({}), ['a', 'a1', 'a11', 'a2', 'a_x', 'b', 'b1', 'c']);
      assert.deepEqual(await names({ recursive: true }), ['a', 'a1', 'a11', 'a2', 'a_x', 'b', 'b1', 'c']);
      assert.deepEqual(await names({ recursive: false }), ['a', 'b', 'c']);
      const out = await t.iot.send(new ListThingGroupsCommand({ maxResults: 1 }));
      assert.deepEqual(out.thingGroups, [{ groupName: 'a', groupArn: groupArn('a') }]);
    });

    it('lists all descendants of parentGroup, or its direct children with recursive=false', async () => {
      assert.deepEqual(await names({ parentGroup: 'a' }), ['a1', 'a11', 'a2', 'a_x']);
      assert.deepEqual(await names({ parentGroup: 'a', recursive: false }), ['a1', 'a2']);
      assert.deepEqual(await names({ parentGroup: 'a', recursive: true }), ['a1', 'a11', 'a2', 'a_x']);
      assert.deepEqual(await names({ parentGroup: 'a1', recursive: true }), ['a11']);
      assert.deepEqual(await names({ parentGroup: 'c', recursive: true }), []);
      await expectAwsError(t.iot.send(new ListThingGroupsCommand({ parentGroup: 'zz' })), 'ResourceNotFoundException', { status: 404 });
    });

    it('applies namePrefixFilter after the parent filter, literally', async () => {
      assert.deepEqual(await names({ namePrefixFilter: 'a1' }), ['a1', 'a11']);
      assert.deepEqual(await names({ namePrefixFilter: 'a_' }), ['a_x']);
      assert.deepEqual(await names({ namePrefixFilter: 'A' }), []);
      assert.deepEqual(await names({ parentGroup: 'a', recursive: true, namePrefixFilter: 'a1' }), ['a1', 'a11']);
      assert.deepEqual(await names({ recursive: false, namePrefixFilter: 'b' }), ['b']);
    });

    it('paginates by name', async () => {
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const out = await t.iot.send(new ListThingGroupsCommand({ maxResults: 3, parentGroup: 'a', recursive: true, nextToken }));
        seen.push(...out.thingGroups!.map((g) => g.groupName!));
        nextToken = out.nextToken;
      } while (nextToken);
      assert.deepEqual(seen, ['a1', 'a11', 'a2', 'a_x']);
      await expectAwsError(t.iot.send(new ListThingGroupsCommand({ maxResults: 251 })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new ListThingGroupsCommand({ nextToken: 'bm9wZQ' })), 'InvalidRequestException', { status: 400 });
    });
  });
}
