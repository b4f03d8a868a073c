import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteThingCommand,
  DeleteThingGroupCommand,
  DescribeThingCommand,
  ListThingGroupsForThingCommand,
  ListThingsInThingGroupCommand,
  RemoveThingFromThingGroupCommand,
  UpdateThingGroupsForThingCommand,
} from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const thingArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thing/${name}`;
const groupArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${name}`;

for (const backend of await testBackends()) {
  describe(`thing group membership (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      // fleet ─ eu ─ berlin        other
      for (const [thingGroupName, parentGroupName] of [['fleet'], ['eu', 'fleet'], ['berlin', 'eu'], ['other']] as [string, string?][]) {
        await t.iot.send(new CreateThingGroupCommand({ thingGroupName, parentGroupName }));
      }
      for (const thingName of ['t1', 't2', 't3', 't4']) await t.iot.send(new CreateThingCommand({ thingName }));
    });
    after(async () => t?.close());

    const add = (thingName: string, thingGroupName: string) => t.iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName }));
    const remove = (thingName: string, thingGroupName: string) => t.iot.send(new RemoveThingFromThingGroupCommand({ thingName, thingGroupName }));
    const groupsOf = async (thingName: string) => (await t.iot.send(new ListThingGroupsForThingCommand({ thingName }))).thingGroups?.map((g) => g.groupName);
    const membersOf = async (thingGroupName: string, recursive?: boolean) =>
      (await t.iot.send(new ListThingsInThingGroupCommand({ thingGroupName, recursive }))).things;

    it('adds and removes by name or ARN; repeats are no-ops', async () => {
      await add('t1', 'berlin');
      await t.iot.send(new AddThingToThingGroupCommand({ thingArn: thingArn('t2'), thingGroupArn: groupArn('eu'), overrideDynamicGroups: true }));
      await t.iot.send(new AddThingToThingGroupCommand({ thingName: 't3', thingArn: thingArn('t3'), thingGroupName: 'fleet', thingGroupArn: groupArn('fleet') }));
      await add('t1', 'berlin');
      assert.deepEqual(await groupsOf('t1'), ['berlin']);
      assert.deepEqual(await membersOf('berlin'), ['t1']);
      assert.deepEqual(await membersOf('eu'), ['t2']);

      await t.iot.send(new RemoveThingFromThingGroupCommand({ thingArn: thingArn('t2'), thingGroupArn: groupArn('eu') }));
      await remove('t2', 'eu');
      await remove('t4', 'other');
      assert.deepEqual(await membersOf('eu'), []);
      // Membership does not touch the thing's version.
      assert.equal((await t.iot.send(new DescribeThingCommand({ thingName: 't1' }))).version, 1);
    });

    it('rejects missing, mismatched and unknown references', async () => {
      let err = await expectAwsError(t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'fleet' })), 'InvalidRequestException', { status: 400 });
      assert.equal(err.message, 'Both thingArn and thingName are empty. Need to specify at least one of them');
      err = await expectAwsError(t.iot.send(new RemoveThingFromThingGroupCommand({ thingName: 't1' })), 'InvalidRequestException');
      assert.equal(err.message, 'Both thingGroupArn and thingGroupName are empty. Need to specify at least one of them');
      err = await expectAwsError(t.iot.send(new AddThingToThingGroupCommand({ thingName: 't1', thingArn: thingArn('t2'), thingGroupName: 'fleet' })), 'InvalidRequestException');
      assert.equal(err.message, 'ThingName thingArn does not match specified thingName in request');
      await expectAwsError(t.iot.send(new AddThingToThingGroupCommand({ thingName: 't1', thingGroupName: 'fleet', thingGroupArn: groupArn('eu') })), 'InvalidRequestException', {
        message: 'ThingGroupName thingGroupArn does not match specified thingGroupName in request',
      });
      await expectAwsError(t.iot.send(new AddThingToThingGroupCommand({ thingArn: 'not-an-arn', thingGroupName: 'fleet' })), 'InvalidRequestException');
      // A group ARN where a thing ARN belongs.
      await expectAwsError(t.iot.send(new AddThingToThingGroupCommand({ thingArn: groupArn('t1'), thingGroupName: 'fleet' })), 'InvalidRequestException');

      await expectAwsError(add('ghost', 'fleet'), 'ResourceNotFoundException', { status: 404, message: 'ghost' });
      await expectAwsError(add('t1', 'ghost-group'), 'ResourceNotFoundException', { status: 404, message: 'ghost-group' });
      await expectAwsError(remove('t1', 'ghost-group'), 'ResourceNotFoundException');
      // Another account's ARN names nothing here.
      await expectAwsError(
        t.iot.send(new AddThingToThingGroupCommand({ thingArn: `arn:aws:iot:${REGION}:999999999999:thing/t1`, thingGroupName: 'fleet' })),
        'ResourceNotFoundException',
      );
      await expectAwsError(t.iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'ghost-group' })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new ListThingGroupsForThingCommand({ thingName: 'ghost' })), 'ResourceNotFoundException');
    });

    it('ListThingsInThingGroup is direct by default and covers descendants, each thing once, with recursive', async () => {
      await add('t4', 'eu');
      await add('t4', 'berlin');
      assert.deepEqual(await membersOf('fleet'), ['t3']);
      assert.deepEqual(await membersOf('fleet', true), ['t1', 't3', 't4']);
      assert.deepEqual(await membersOf('eu', true), ['t1', 't4']);
      assert.deepEqual(await membersOf('berlin', true), ['t1', 't4']);
      assert.deepEqual(await membersOf('other', true), []);
      // Only the direct groups of a thing, never ancestors.
      assert.deepEqual(await groupsOf('t4'), ['berlin', 'eu']);
      const out = await t.iot.send(new ListThingGroupsForThingCommand({ thingName: 't4' }));
      assert.deepEqual(out.thingGroups, [{ groupName: 'berlin', groupArn: groupArn('berlin') }, { groupName: 'eu', groupArn: groupArn('eu') }]);

      // Pagination, recursive and not.
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await t.iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'fleet', recursive: true, maxResults: 2, nextToken }));
        seen.push(...page.things!);
        nextToken = page.nextToken;
      } while (nextToken);
      assert.deepEqual(seen, ['t1', 't3', 't4']);
      const g1 = await t.iot.send(new ListThingGroupsForThingCommand({ thingName: 't4', maxResults: 1 }));
      const g2 = await t.iot.send(new ListThingGroupsForThingCommand({ thingName: 't4', maxResults: 1, nextToken: g1.nextToken }));
      assert.deepEqual([...g1.thingGroups!, ...g2.thingGroups!].map((g) => g.groupName), ['berlin', 'eu']);
      assert.equal(g2.nextToken, undefined);
      await expectAwsError(t.iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'fleet', maxResults: 0 })), 'InvalidRequestException');
    });

    it('UpdateThingGroupsForThing validates everything first and applies all or nothing', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'u1' }));
      await add('u1', 'other');
      await t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'u1', thingGroupsToAdd: ['fleet', 'eu'], thingGroupsToRemove: ['other'] }));
      assert.deepEqual(await groupsOf('u1'), ['eu', 'fleet']);

      // One unknown group: nothing changes.
      await expectAwsError(
        t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'u1', thingGroupsToAdd: ['berlin', 'nope'], thingGroupsToRemove: ['eu'] })),
        'ResourceNotFoundException', { status: 404, message: 'nope' },
      );
      assert.deepEqual(await groupsOf('u1'), ['eu', 'fleet']);
      await expectAwsError(
        t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'u1', thingGroupsToAdd: ['berlin'], thingGroupsToRemove: ['berlin'] })),
        'InvalidRequestException', { status: 400 },
      );
      await expectAwsError(t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'ghost', thingGroupsToAdd: ['fleet'] })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new UpdateThingGroupsForThingCommand({ thingGroupsToAdd: ['fleet'] })), 'InvalidRequestException', {
        message: "Value null at 'thingName' failed to satisfy constraint: Member must not be null",
      });
      await expectAwsError(t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'u1', thingGroupsToAdd: ['bad name'] })), 'InvalidRequestException', {
        message: "at 'thingGroupsToAdd.1.member'",
      });
      // Removing groups the thing is not in and adding ones it is in are fine.
      await t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'u1', thingGroupsToAdd: ['eu'], thingGroupsToRemove: ['other'] }));
      await t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'u1' }));
      assert.deepEqual(await groupsOf('u1'), ['eu', 'fleet']);
    });

    it('a thing can be in at most 10 groups', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'busy' }));
      const groups = Array.from({ length: 11 }, (_, i) => `lim${String(i).padStart(2, '0')}`);
      for (const g of groups) await t.iot.send(new CreateThingGroupCommand({ thingGroupName: g }));
      await t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'busy', thingGroupsToAdd: groups.slice(0, 9) }));
      await add('busy', 'lim09');
      await expectAwsError(add('busy', 'lim10'), 'InvalidRequestException', { status: 400, message: '10 thing groups' });
      await expectAwsError(
        t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'busy', thingGroupsToAdd: ['lim10'] })),
        'InvalidRequestException', { message: '10 thing groups' },
      );
      // Re-adding an existing group at the limit is still a no-op, and a swap fits.
      await add('busy', 'lim00');
      await t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'busy', thingGroupsToAdd: ['lim10'], thingGroupsToRemove: ['lim00'] }));
      const now = await t.iot.send(new ListThingGroupsForThingCommand({ thingName: 'busy', maxResults: 250 }));
      assert.equal(now.thingGroups?.length, 10);
      assert.ok(!now.thingGroups?.some((g) => g.groupName === 'lim00'));
    });

    it('concurrent adds cannot push a thing past 10 groups', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'racer' }));
      const groups = Array.from({ length: 14 }, (_, i) => `race${String(i).padStart(2, '0')}`);
      for (const g of groups) await t.iot.send(new CreateThingGroupCommand({ thingGroupName: g }));
      const results = await Promise.allSettled(groups.map((g) => add('racer', g)));
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      assert.equal(refused.length, 4);
      for (const r of refused) assert.equal((r.reason as Error).name, 'InvalidRequestException');
      const now = await t.iot.send(new ListThingGroupsForThingCommand({ thingName: 'racer', maxResults: 250 }));
      assert.equal(now.thingGroups?.length, 10);
    });

    it('deleting a thing takes it out of its groups; deleting a group takes its members out', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'd1' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'd2' }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'doomed', parentGroupName: 'other' }));
      await add('d1', 'doomed');
      await add('d2', 'doomed');
      await add('d1', 'other');

      await t.iot.send(new DeleteThingCommand({ thingName: 'd1' }));
      assert.deepEqual(await membersOf('doomed'), ['d2']);
      assert.deepEqual(await membersOf('other', true), ['d2']);
      // Re-created under the same name, the thing starts without groups.
      await t.iot.send(new CreateThingCommand({ thingName: 'd1' }));
      assert.deepEqual(await groupsOf('d1'), []);

      await t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'doomed' }));
      assert.deepEqual(await groupsOf('d2'), []);
      assert.deepEqual(await membersOf('other', true), []);
      // A group re-created under the same name starts empty.
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'doomed' }));
      assert.deepEqual(await membersOf('doomed'), []);
    });
  });
}
