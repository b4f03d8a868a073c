import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToBillingGroupCommand,
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreateBillingGroupCommand,
  CreateDynamicThingGroupCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteBillingGroupCommand,
  DeleteDynamicThingGroupCommand,
  DeleteThingGroupCommand,
  DescribeThingGroupCommand,
  ListThingGroupsCommand,
  ListThingGroupsForThingCommand,
  ListThingsInThingGroupCommand,
  RemoveThingFromThingGroupCommand,
  SearchIndexCommand,
  UpdateDynamicThingGroupCommand,
  UpdateIndexingConfigurationCommand,
  UpdateThingCommand,
  UpdateThingGroupCommand,
  UpdateThingGroupsForThingCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { groupArn } from '../support/jobs.js';
import { TestDevice } from '../support/mqtt.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const NOT_ENABLED = 'AWS IoT Fleet Indexing is not enabled. Please enable index by calling UpdateIndexingConfiguration.';
const NOT_FOR_DYNAMIC = (g: string) => `This operation does not support dynamic thing groups. Thing group arn: ${groupArn(g)}`;

const INDEXING = {
  thingIndexingConfiguration: {
    thingIndexingMode: 'REGISTRY_AND_SHADOW' as const,
    namedShadowIndexingMode: 'ON' as const,
    filter: { namedShadowNames: ['$package'] },
  },
};

async function members(iot: IoTClient, group: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const r = await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: group, nextToken, maxResults: 250 }));
    out.push(...(r.things ?? []));
    nextToken = r.nextToken;
  } while (nextToken);
  return out.sort();
}

async function groupsOf(iot: IoTClient, thing: string): Promise<string[]> {
  const r = await iot.send(new ListThingGroupsForThingCommand({ thingName: thing }));
  return (r.thingGroups ?? []).map((g) => g.groupName!).sort();
}

async function thing(iot: IoTClient, name: string, attributes: Record<string, string> = {}): Promise<void> {
  await iot.send(new CreateThingCommand({ thingName: name, attributePayload: { attributes } }));
}

async function reportPackage(data: IoTDataPlaneClient, thingName: string, pkg: string, version: string | null): Promise<void> {
  const reported = { [pkg]: version === null ? null : { version } };
  await data.send(new UpdateThingShadowCommand({ thingName, shadowName: '$package', payload: new TextEncoder().encode(JSON.stringify({ state: { reported } })) }));
}

for (const backend of await testBackends()) {
  describe(`dynamic thing groups (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let data: IoTDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend);
      data = iotDataClient(t);
    });
    after(async () => {
      data?.destroy();
      await t?.close();
    });

    it('needs thing indexing, a valid query and the AWS_Things index', async () => {
      await expectAwsError(t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'early', queryString: 'thingName:*' })), 'ResourceNotFoundException', { message: NOT_ENABLED, status: 404 });
      await t.iot.send(new UpdateIndexingConfigurationCommand(INDEXING));
      await expectAwsError(t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'bad', queryString: 'thingName:(a' })), 'InvalidQueryException', { status: 400 });
      await expectAwsError(t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'bad', queryString: 'nosuchfield:1' })), 'InvalidQueryException', { message: /invalid field name, field name: nosuchfield/ });
      await expectAwsError(t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'bad', indexName: 'AWS_ThingGroups', queryString: 'thingGroupName:x' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'bad' })), 'ResourceNotFoundException');
    });

    it('starts with the things that match, and says what it is in every read API', async () => {
      await thing(t.iot, 'pump-1', { site: 'north', floor: '3' });
      await thing(t.iot, 'pump-2', { site: 'north', floor: '7' });
      await thing(t.iot, 'pump-3', { site: 'south', floor: '3' });
      const created = await t.iot.send(new CreateDynamicThingGroupCommand({
        thingGroupName: 'north', queryString: 'attributes.site:north', thingGroupProperties: { thingGroupDescription: 'north side' },
        tags: [{ Key: 'team', Value: 'ops' }],
      }));
      assert.equal(created.thingGroupName, 'north');
      assert.equal(created.thingGroupArn, groupArn('north'));
      assert.match(created.thingGroupId!, /^[0-9a-f-]{36}$/);
      assert.equal(created.indexName, 'AWS_Things');
      assert.equal(created.queryString, 'attributes.site:north');
      assert.equal(created.queryVersion, '2017-09-30');
      const d = await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'north' }));
      assert.equal(d.queryString, 'attributes.site:north');
      assert.equal(d.indexName, 'AWS_Things');
      assert.equal(d.queryVersion, '2017-09-30');
      assert.equal(d.status, 'ACTIVE', 'a small registry is swept in the create itself');
      assert.equal(d.version, 1);
      assert.equal(d.thingGroupProperties?.thingGroupDescription, 'north side');
      assert.equal(d.thingGroupMetadata?.parentGroupName, undefined);
      assert.ok(d.thingGroupMetadata?.creationDate instanceof Date);
      assert.deepEqual(await members(t.iot, 'north'), ['pump-1', 'pump-2']);
      assert.deepEqual(await groupsOf(t.iot, 'pump-1'), ['north']);
      assert.deepEqual(await groupsOf(t.iot, 'pump-3'), []);
      const roots = await t.iot.send(new ListThingGroupsCommand({ recursive: false }));
      assert.ok(roots.thingGroups!.some((g) => g.groupName === 'north'), 'a dynamic group is a root');
      const hits = await t.iot.send(new SearchIndexCommand({ queryString: 'thingGroupNames:north' }));
      assert.deepEqual(hits.things!.map((x) => x.thingName).sort(), ['pump-1', 'pump-2']);
      // The same request again answers the same group; another query under the name is refused.
      const again = await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'north', queryString: 'attributes.site:north', thingGroupProperties: { thingGroupDescription: 'north side' } }));
      assert.equal(again.thingGroupId, created.thingGroupId);
      await expectAwsError(t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'north', queryString: 'attributes.site:south' })), 'ResourceAlreadyExistsException', { status: 409 });
    });

    it('follows registry changes, new things, shadows, static and billing groups, in the same request', async () => {
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'high', queryString: 'attributes.floor > 5' }));
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'old-agent', queryString: 'shadow.name.$package.reported.agent.version:* AND NOT shadow.name.$package.reported.agent.version:2.0.1' }));
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'in-lab', queryString: 'thingGroupNames:lab OR thingGroupNames:lab-billing' }));
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'unreported', queryString: 'NOT shadow.name.$package.reported.agent.version:*' }));
      assert.deepEqual(await members(t.iot, 'high'), ['pump-2']);
      assert.deepEqual(await members(t.iot, 'unreported'), ['pump-1', 'pump-2', 'pump-3']);

      await t.iot.send(new UpdateThingCommand({ thingName: 'pump-3', attributePayload: { attributes: { floor: '9' }, merge: true } }));
      assert.deepEqual(await members(t.iot, 'high'), ['pump-2', 'pump-3']);
      await t.iot.send(new UpdateThingCommand({ thingName: 'pump-2', attributePayload: { attributes: { floor: '1' }, merge: true } }));
      assert.deepEqual(await members(t.iot, 'high'), ['pump-3']);

      await thing(t.iot, 'pump-4', { site: 'north', floor: '12' });
      assert.deepEqual(await groupsOf(t.iot, 'pump-4'), ['high', 'north', 'unreported'], 'a new thing joins what it matches');

      await reportPackage(data, 'pump-1', 'agent', '2.0.0');
      await reportPackage(data, 'pump-2', 'agent', '2.0.1');
      assert.deepEqual(await members(t.iot, 'old-agent'), ['pump-1']);
      assert.deepEqual(await members(t.iot, 'unreported'), ['pump-3', 'pump-4']);
      await reportPackage(data, 'pump-1', 'agent', '2.0.1');
      assert.deepEqual(await members(t.iot, 'old-agent'), []);
      await reportPackage(data, 'pump-1', 'agent', null);
      assert.deepEqual(await members(t.iot, 'unreported'), ['pump-1', 'pump-3', 'pump-4']);

      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'lab' }));
      await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'lab', thingName: 'pump-3' }));
      await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'lab-billing' }));
      await t.iot.send(new AddThingToBillingGroupCommand({ billingGroupName: 'lab-billing', thingName: 'pump-1' }));
      assert.deepEqual(await members(t.iot, 'in-lab'), ['pump-1', 'pump-3']);
      await t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'lab', thingName: 'pump-3' }));
      assert.deepEqual(await members(t.iot, 'in-lab'), ['pump-1']);
      // Deleting a billing group changes many things' thingGroupNames at once: the groups reading them are swept again.
      // (The engine is poked at once: REBUILDING may already be over when a describe comes.)
      await t.iot.send(new DeleteBillingGroupCommand({ billingGroupName: 'lab-billing' }));
      await t.advance(0);
      assert.equal((await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'in-lab' }))).status, 'ACTIVE');
      assert.deepEqual(await members(t.iot, 'in-lab'), []);
    });

    it('refuses the static operations on a dynamic group, and the dynamic ones on a static group', async () => {
      await expectAwsError(t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'north', thingName: 'pump-3' })), 'InvalidRequestException', { message: NOT_FOR_DYNAMIC('north') });
      await expectAwsError(t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'north', thingName: 'pump-1' })), 'InvalidRequestException', { message: NOT_FOR_DYNAMIC('north') });
      await expectAwsError(t.iot.send(new UpdateThingGroupsForThingCommand({ thingName: 'pump-3', thingGroupsToAdd: ['lab', 'north'] })), 'InvalidRequestException', { message: NOT_FOR_DYNAMIC('north') });
      await expectAwsError(t.iot.send(new UpdateThingGroupCommand({ thingGroupName: 'north', thingGroupProperties: {} })), 'InvalidRequestException', { message: NOT_FOR_DYNAMIC('north') });
      await expectAwsError(t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'north' })), 'InvalidRequestException', { message: NOT_FOR_DYNAMIC('north') });
      await expectAwsError(t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'child', parentGroupName: 'north' })), 'InvalidRequestException', { message: NOT_FOR_DYNAMIC('north') });
      await expectAwsError(t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'north' })), 'ResourceAlreadyExistsException');
      await t.iot.send(new CreatePolicyCommand({ policyName: 'p', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] }) }));
      await expectAwsError(t.iot.send(new AttachPolicyCommand({ policyName: 'p', target: groupArn('north') })), 'InvalidRequestException');
      const only = `This operation only supports dynamic thing groups. Thing group arn: ${groupArn('lab')}`;
      await expectAwsError(t.iot.send(new UpdateDynamicThingGroupCommand({ thingGroupName: 'lab', thingGroupProperties: {} })), 'InvalidRequestException', { message: only });
      await expectAwsError(t.iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: 'lab' })), 'InvalidRequestException', { message: only });
      // Nothing changed.
      assert.deepEqual(await members(t.iot, 'north'), ['pump-1', 'pump-2', 'pump-4']);
      assert.equal((await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'north' }))).version, 1);
      await expectAwsError(t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'OFF' } })), 'InvalidRequestException', { message: /dynamic thing groups/ });
    });

    it('follows connectivity, and a new indexing configuration re-resolves every query', async () => {
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'online', queryString: 'connectivity.connected:true' }));
      assert.deepEqual(await members(t.iot, 'online'), [], 'connectivity is not indexed yet: the field matches nothing');
      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { ...INDEXING.thingIndexingConfiguration, thingConnectivityIndexingMode: 'STATUS' } }));
      await t.advance(0);
      assert.equal((await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'online' }))).status, 'ACTIVE');
      // The broker records connectivity as the connection event comes, not before connect returns.
      const until = async (expected: string[], what: string) => {
        for (let i = 0; i < 200 && JSON.stringify(await members(t.iot, 'online')) !== JSON.stringify(expected); i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(await members(t.iot, 'online'), expected, what);
      };
      const device = await TestDevice.connect(t.server.mqttUrl!, 'pump-2');
      try {
        await until(['pump-2'], 'joined as it connected');
      } finally {
        await device.close();
      }
      await until([], 'left as it disconnected');
      await t.iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: 'online' }));
    });

    it('updates the query and properties with a version, and deletes', async () => {
      await expectAwsError(t.iot.send(new UpdateDynamicThingGroupCommand({ thingGroupName: 'north', thingGroupProperties: {}, expectedVersion: 7 })), 'VersionConflictException', { status: 409 });
      await expectAwsError(t.iot.send(new UpdateDynamicThingGroupCommand({ thingGroupName: 'nope', thingGroupProperties: {} })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(t.iot.send(new UpdateDynamicThingGroupCommand({ thingGroupName: 'north', thingGroupProperties: {}, queryString: 'thingName:(' })), 'InvalidQueryException');
      const u = await t.iot.send(new UpdateDynamicThingGroupCommand({
        thingGroupName: 'north', expectedVersion: 1, queryString: 'attributes.site:south',
        thingGroupProperties: { attributePayload: { attributes: { owner: 'ops' } } },
      }));
      assert.equal(u.version, 2);
      const d = await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'north' }));
      assert.equal(d.queryString, 'attributes.site:south');
      assert.equal(d.status, 'ACTIVE');
      assert.equal(d.thingGroupProperties?.thingGroupDescription, 'north side', 'kept');
      assert.deepEqual(d.thingGroupProperties?.attributePayload?.attributes, { owner: 'ops' });
      assert.deepEqual(await members(t.iot, 'north'), ['pump-3']);

      await expectAwsError(t.iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: 'north', expectedVersion: 1 })), 'VersionConflictException');
      await t.iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: 'north', expectedVersion: 2 }));
      await expectAwsError(t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'north' })), 'ResourceNotFoundException');
      assert.ok(!(await groupsOf(t.iot, 'pump-3')).includes('north'));
      // Deleting what is gone succeeds (the model lists no ResourceNotFoundException).
      await t.iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: 'north' }));
    });
  });

  describe(`dynamic groups and the 10-groups-per-thing limit (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY' } }));
    });
    after(async () => t?.close());

    it('refuses a join at the limit, lets an older group take a newer one\'s place, and re-admits below the limit', async () => {
      await thing(t.iot, 'd1', { kind: 'x' });
      for (let i = 0; i < 9; i++) {
        await t.iot.send(new CreateThingGroupCommand({ thingGroupName: `s${i}` }));
        await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: `s${i}`, thingName: 'd1' }));
      }
      // `older` is created first but does not match yet; `newer` fills the tenth place.
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'older', queryString: 'attributes.color:red' }));
      t.clock.advance(1000);
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'newer', queryString: 'attributes.kind:x' }));
      t.clock.advance(1000);
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'newest', queryString: 'thingName:d1' }));
      assert.deepEqual((await groupsOf(t.iot, 'd1')).filter((g) => !g.startsWith('s')), ['newer'], 'the newest group finds no room');

      await t.iot.send(new UpdateThingCommand({ thingName: 'd1', attributePayload: { attributes: { color: 'red' }, merge: true } }));
      assert.deepEqual((await groupsOf(t.iot, 'd1')).filter((g) => !g.startsWith('s')), ['older'], 'the older group takes the newer one\'s place');
      assert.equal((await groupsOf(t.iot, 'd1')).length, 10);

      // A static add at the limit: refused, unless overrideDynamicGroups evicts the newest dynamic membership.
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 's9' }));
      await expectAwsError(t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 's9', thingName: 'd1' })), 'InvalidRequestException', { message: /more than 10 thing groups/ });
      await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 's9', thingName: 'd1', overrideDynamicGroups: true }));
      const groups = await groupsOf(t.iot, 'd1');
      assert.equal(groups.length, 10);
      assert.ok(!groups.includes('older') && groups.includes('s9'));

      // Below the limit again, the thing is checked against every dynamic group: the oldest it matches wins.
      await t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 's0', thingName: 'd1' }));
      assert.deepEqual((await groupsOf(t.iot, 'd1')).filter((g) => !g.startsWith('s')), ['older']);
      await t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 's1', thingName: 'd1' }));
      assert.deepEqual((await groupsOf(t.iot, 'd1')).filter((g) => !g.startsWith('s')), ['newer', 'older'], 'one place: the older of the two it was refused');
      await t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 's2', thingName: 'd1' }));
      assert.deepEqual((await groupsOf(t.iot, 'd1')).filter((g) => !g.startsWith('s')), ['newer', 'newest', 'older']);
    });
  });

  describe(`dynamic group sweeps over a larger registry (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_INDEX_BUILD_DELAY_MS: '60000' });
      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY' } }));
      await t.advance(60_000);
    });
    after(async () => t?.close());

    it('reports BUILDING until the sweep is done, then ACTIVE with every member', async () => {
      const names = Array.from({ length: 620 }, (_, i) => `unit-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < names.length; i += 20) {
        await Promise.all(names.slice(i, i + 20).map((n, j) => thing(t.iot, n, { parity: (i + j) % 2 === 0 ? 'even' : 'odd' })));
      }
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'even', queryString: 'attributes.parity:even' }));
      const building = await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'even' }));
      assert.equal(building.status, 'BUILDING');
      // The sweep goes on in the background; a change meanwhile is followed at once.
      await t.iot.send(new UpdateThingCommand({ thingName: 'unit-0619', attributePayload: { attributes: { parity: 'even' }, merge: true } }));
      assert.ok((await groupsOf(t.iot, 'unit-0619')).includes('even'));
      await t.advance(60_000);
      assert.equal((await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'even' }))).status, 'ACTIVE');
      const expected = names.filter((_, i) => i % 2 === 0).concat('unit-0619').sort();
      assert.deepEqual(await members(t.iot, 'even'), expected);

      // A new query rebuilds: REBUILDING, then ACTIVE with the new members.
      await t.iot.send(new UpdateDynamicThingGroupCommand({ thingGroupName: 'even', thingGroupProperties: {}, queryString: 'attributes.parity:odd' }));
      assert.equal((await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'even' }))).status, 'REBUILDING');
      await t.advance(60_000);
      assert.equal((await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'even' }))).status, 'ACTIVE');
      assert.deepEqual(await members(t.iot, 'even'), names.filter((_, i) => i % 2 === 1 && i !== 619).sort());
    });
  });
}
