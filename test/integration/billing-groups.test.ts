import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToBillingGroupCommand,
  CreateBillingGroupCommand,
  CreateThingCommand,
  DeleteBillingGroupCommand,
  DeleteThingCommand,
  DescribeBillingGroupCommand,
  DescribeThingCommand,
  ListBillingGroupsCommand,
  ListTagsForResourceCommand,
  ListThingsInBillingGroupCommand,
  RemoveThingFromBillingGroupCommand,
  TagResourceCommand,
  UpdateBillingGroupCommand,
} from '@aws-sdk/client-iot';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const billingArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:billinggroup/${name}`;
const thingArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thing/${name}`;
const cliSkip = awsCliSkipReason();

for (const backend of await testBackends()) {
  describe(`billing groups (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    const things = async (billingGroupName: string) => (await t.iot.send(new ListThingsInBillingGroupCommand({ billingGroupName }))).things;
    const billingGroupOf = async (thingName: string) => (await t.iot.send(new DescribeThingCommand({ thingName }))).billingGroupName;

    it('creates, describes, updates with expectedVersion and answers a same-properties create with the same group', async () => {
      const created = t.clock.now();
      const bg = await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'eu-billing', billingGroupProperties: { billingGroupDescription: 'EU fleet' }, tags: [{ Key: 'team', Value: 'fw' }] }));
      assert.equal(bg.billingGroupName, 'eu-billing');
      assert.equal(bg.billingGroupArn, billingArn('eu-billing'));
      assert.match(bg.billingGroupId!, UUID);
      const again = await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'eu-billing', billingGroupProperties: { billingGroupDescription: 'EU fleet' } }));
      assert.equal(again.billingGroupId, bg.billingGroupId);
      await expectAwsError(t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'eu-billing', billingGroupProperties: { billingGroupDescription: 'other' } })), 'ResourceAlreadyExistsException', { status: 409, message: 'Billing Group eu-billing already exists' });

      const d = await t.iot.send(new DescribeBillingGroupCommand({ billingGroupName: 'eu-billing' }));
      assert.deepEqual(
        { name: d.billingGroupName, id: d.billingGroupId, arn: d.billingGroupArn, version: d.version, props: d.billingGroupProperties },
        { name: 'eu-billing', id: bg.billingGroupId, arn: billingArn('eu-billing'), version: 1, props: { billingGroupDescription: 'EU fleet' } },
      );
      assert.equal(d.billingGroupMetadata?.creationDate?.getTime(), created);

      await expectAwsError(t.iot.send(new UpdateBillingGroupCommand({ billingGroupName: 'eu-billing', billingGroupProperties: { billingGroupDescription: 'x' }, expectedVersion: 7 })), 'VersionConflictException', { status: 409 });
      const u = await t.iot.send(new UpdateBillingGroupCommand({ billingGroupName: 'eu-billing', billingGroupProperties: { billingGroupDescription: 'EU fleet, 2027' }, expectedVersion: 1 }));
      assert.equal(u.version, 2);
      const d2 = await t.iot.send(new DescribeBillingGroupCommand({ billingGroupName: 'eu-billing' }));
      assert.equal(d2.version, 2);
      assert.equal(d2.billingGroupProperties?.billingGroupDescription, 'EU fleet, 2027');

      const tags = await t.iot.send(new ListTagsForResourceCommand({ resourceArn: billingArn('eu-billing') }));
      assert.deepEqual(tags.tags, [{ Key: 'team', Value: 'fw' }]);
      await t.iot.send(new TagResourceCommand({ resourceArn: billingArn('eu-billing'), tags: [{ Key: 'cost', Value: 'cc-12' }] }));
      const tags2 = await t.iot.send(new ListTagsForResourceCommand({ resourceArn: billingArn('eu-billing') }));
      assert.deepEqual(tags2.tags?.map((x) => x.Key).sort(), ['cost', 'team']);
    });

    it('refuses missing groups and bad input with AWS-shaped errors, changing nothing', async () => {
      await expectAwsError(t.iot.send(new DescribeBillingGroupCommand({ billingGroupName: 'nope' })), 'ResourceNotFoundException', { status: 404, message: 'Billing Group nope cannot be found.' });
      await expectAwsError(t.iot.send(new UpdateBillingGroupCommand({ billingGroupName: 'nope', billingGroupProperties: {} })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new ListThingsInBillingGroupCommand({ billingGroupName: 'nope' })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'bad name!' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'long-desc', billingGroupProperties: { billingGroupDescription: 'x'.repeat(2029) } })), 'InvalidRequestException', { message: 'billingGroupProperties.billingGroupDescription' });
      await expectAwsError(t.iot.send(new DescribeBillingGroupCommand({ billingGroupName: 'long-desc' })), 'ResourceNotFoundException');
      await expectAwsError(t.iot.send(new CreateThingCommand({ thingName: 'orphan', billingGroupName: 'nope' })), 'ResourceNotFoundException', { message: 'Billing Group nope cannot be found.' });
      await expectAwsError(t.iot.send(new DescribeThingCommand({ thingName: 'orphan' })), 'ResourceNotFoundException');
      // DeleteBillingGroup of a missing group succeeds: the model lists no ResourceNotFoundException.
      await t.iot.send(new DeleteBillingGroupCommand({ billingGroupName: 'nope' }));
    });

    it('keeps each thing in at most one billing group: CreateThing, add by name or ARN, move, remove', async () => {
      await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'bg-a' }));
      await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'bg-b' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'dev-1', billingGroupName: 'bg-a' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'dev-2' }));
      assert.equal(await billingGroupOf('dev-1'), 'bg-a');
      assert.equal(await billingGroupOf('dev-2'), undefined);

      await t.iot.send(new AddThingToBillingGroupCommand({ billingGroupArn: billingArn('bg-a'), thingArn: thingArn('dev-2') }));
      assert.deepEqual(await things('bg-a'), ['dev-1', 'dev-2']);
      // Joining another billing group moves the thing.
      await t.iot.send(new AddThingToBillingGroupCommand({ billingGroupName: 'bg-b', thingName: 'dev-1' }));
      assert.deepEqual(await things('bg-a'), ['dev-2']);
      assert.deepEqual(await things('bg-b'), ['dev-1']);
      assert.equal(await billingGroupOf('dev-1'), 'bg-b');

      // Removing a thing from a group it is not in changes nothing.
      await t.iot.send(new RemoveThingFromBillingGroupCommand({ billingGroupName: 'bg-a', thingName: 'dev-1' }));
      assert.equal(await billingGroupOf('dev-1'), 'bg-b');
      await t.iot.send(new RemoveThingFromBillingGroupCommand({ billingGroupName: 'bg-b', thingName: 'dev-1' }));
      assert.equal(await billingGroupOf('dev-1'), undefined);
      assert.deepEqual(await things('bg-b'), []);

      await expectAwsError(t.iot.send(new AddThingToBillingGroupCommand({ billingGroupName: 'bg-a' })), 'InvalidRequestException', { message: 'Both thingArn and thingName are empty' });
      await expectAwsError(t.iot.send(new AddThingToBillingGroupCommand({ billingGroupName: 'bg-a', billingGroupArn: billingArn('bg-b'), thingName: 'dev-1' })), 'InvalidRequestException', { message: 'BillingGroupName billingGroupArn does not match specified billingGroupName in request' });
      await expectAwsError(t.iot.send(new AddThingToBillingGroupCommand({ billingGroupArn: thingArn('dev-1'), thingName: 'dev-1' })), 'InvalidRequestException', { message: 'Invalid billingGroupArn' });
      await expectAwsError(t.iot.send(new AddThingToBillingGroupCommand({ billingGroupName: 'nope', thingName: 'dev-1' })), 'ResourceNotFoundException', { message: 'Billing Group nope cannot be found.' });
      await expectAwsError(t.iot.send(new AddThingToBillingGroupCommand({ billingGroupName: 'bg-a', thingName: 'ghost' })), 'ResourceNotFoundException', { message: 'Thing ghost cannot be found.' });
      assert.equal(await billingGroupOf('dev-1'), undefined);
    });

    it('lists groups by name prefix and pages both listings; deleting a group leaves its things in none', async () => {
      for (const n of ['pg-1', 'pg-2', 'pg-3']) await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: n }));
      const first = await t.iot.send(new ListBillingGroupsCommand({ namePrefixFilter: 'pg-', maxResults: 2 }));
      assert.deepEqual(first.billingGroups, [{ groupName: 'pg-1', groupArn: billingArn('pg-1') }, { groupName: 'pg-2', groupArn: billingArn('pg-2') }]);
      const second = await t.iot.send(new ListBillingGroupsCommand({ namePrefixFilter: 'pg-', maxResults: 2, nextToken: first.nextToken }));
      assert.deepEqual(second.billingGroups?.map((g) => g.groupName), ['pg-3']);
      assert.equal(second.nextToken, undefined);

      for (const n of ['m-3', 'm-1', 'm-2']) await t.iot.send(new CreateThingCommand({ thingName: n, billingGroupName: 'pg-1' }));
      const p1 = await t.iot.send(new ListThingsInBillingGroupCommand({ billingGroupName: 'pg-1', maxResults: 2 }));
      assert.deepEqual(p1.things, ['m-1', 'm-2']);
      const p2 = await t.iot.send(new ListThingsInBillingGroupCommand({ billingGroupName: 'pg-1', maxResults: 2, nextToken: p1.nextToken }));
      assert.deepEqual(p2.things, ['m-3']);
      await expectAwsError(t.iot.send(new ListBillingGroupsCommand({ nextToken: p1.nextToken })), 'InvalidRequestException', { message: 'Next token is invalid.' });

      await t.iot.send(new DeleteThingCommand({ thingName: 'm-3' }));
      assert.deepEqual(await things('pg-1'), ['m-1', 'm-2']);
      await expectAwsError(t.iot.send(new DeleteBillingGroupCommand({ billingGroupName: 'pg-1', expectedVersion: 9 })), 'VersionConflictException');
      await t.iot.send(new DeleteBillingGroupCommand({ billingGroupName: 'pg-1', expectedVersion: 1 }));
      await expectAwsError(t.iot.send(new DescribeBillingGroupCommand({ billingGroupName: 'pg-1' })), 'ResourceNotFoundException');
      assert.equal(await billingGroupOf('m-1'), undefined);
      await expectAwsError(t.iot.send(new ListTagsForResourceCommand({ resourceArn: billingArn('pg-1') })), 'ResourceNotFoundException');
      // The name is free again, with a new id and version 1.
      await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'pg-1' }));
      assert.deepEqual(await things('pg-1'), []);
    });

    it('through the AWS CLI', { skip: cliSkip }, async () => {
      const aws = (...args: string[]) => runAwsCli(t.url, ['iot', ...args]);
      const created = await aws('create-billing-group', '--billing-group-name', 'cli-bg', '--billing-group-properties', 'billingGroupDescription=from the CLI');
      assert.equal(created.code, 0, created.stderr);
      assert.equal(created.json?.billingGroupArn, billingArn('cli-bg'));
      await t.iot.send(new CreateThingCommand({ thingName: 'cli-dev' }));
      const added = await aws('add-thing-to-billing-group', '--billing-group-name', 'cli-bg', '--thing-name', 'cli-dev');
      assert.equal(added.code, 0, added.stderr);
      const listed = await aws('list-things-in-billing-group', '--billing-group-name', 'cli-bg');
      assert.deepEqual(listed.json?.things, ['cli-dev']);
      const described = await aws('describe-billing-group', '--billing-group-name', 'cli-bg');
      assert.deepEqual(described.json?.billingGroupProperties, { billingGroupDescription: 'from the CLI' });
      const missing = await aws('describe-billing-group', '--billing-group-name', 'cli-missing');
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /\(ResourceNotFoundException\)/);
    });
  });
}
