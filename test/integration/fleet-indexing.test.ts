import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToBillingGroupCommand,
  AddThingToThingGroupCommand,
  CreateBillingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  DeleteThingCommand,
  DescribeIndexCommand,
  GetIndexingConfigurationCommand,
  ListIndicesCommand,
  RemoveThingFromThingGroupCommand,
  SearchIndexCommand,
  UpdateIndexingConfigurationCommand,
  UpdateThingCommand,
  CreateJobCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  UpdatePackageConfigurationCommand,
  UpdatePackageVersionCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { groupArn, jobsDataClient, packageVersionArn, seedGroup } from '../support/jobs.js';
import { StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { DeleteThingShadowCommand, UpdateThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { sql } from 'kysely';
import { awsCliSkipReason, runAwsCli } from '../support/aws-cli.js';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { TestDevice } from '../support/mqtt.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const cliSkip = awsCliSkipReason();
const NOT_ENABLED = 'AWS IoT Fleet Indexing is not enabled. Please enable index by calling UpdateIndexingConfiguration.';

const FULL = {
  thingIndexingConfiguration: {
    thingIndexingMode: 'REGISTRY_AND_SHADOW' as const,
    thingConnectivityIndexingMode: 'STATUS' as const,
    namedShadowIndexingMode: 'ON' as const,
    filter: { namedShadowNames: ['$package', 'config'] },
  },
  thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'ON' as const },
};

async function names(iot: IoTClient, queryString: string, indexName?: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const r = await iot.send(new SearchIndexCommand({ queryString, nextToken, ...(indexName ? { indexName } : {}) }));
    out.push(...(r.things ?? []).map((x) => x.thingName!), ...(r.thingGroups ?? []).map((g) => g.thingGroupName!));
    nextToken = r.nextToken;
  } while (nextToken);
  // Pages of one take another road on SQLite (a probe per thing in name order): the same first hits.
  const one = await iot.send(new SearchIndexCommand({ queryString, maxResults: 1, ...(indexName ? { indexName } : {}) }));
  const firstOfOne = [...(one.things ?? []).map((x) => x.thingName!), ...(one.thingGroups ?? []).map((g) => g.thingGroupName!)];
  assert.deepEqual(firstOfOne, out.slice(0, 1), `a page of one for ${queryString}`);
  if (out.length > 1) {
    const two = await iot.send(new SearchIndexCommand({ queryString, maxResults: 1, nextToken: one.nextToken, ...(indexName ? { indexName } : {}) }));
    assert.deepEqual([...(two.things ?? []).map((x) => x.thingName!), ...(two.thingGroups ?? []).map((g) => g.thingGroupName!)], out.slice(1, 2), `the second page of one for ${queryString}`);
  }
  // Hits come in name order; the database's collation decides how case sorts, so compare in code points.
  return out.sort();
}

async function shadow(data: IoTDataPlaneClient, thingName: string, state: unknown, shadowName?: string): Promise<void> {
  await data.send(new UpdateThingShadowCommand({ thingName, ...(shadowName ? { shadowName } : {}), payload: new TextEncoder().encode(JSON.stringify({ state })) }));
}

for (const backend of await testBackends()) {
  describe(`fleet indexing configuration (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_INDEX_BUILD_DELAY_MS: '60000' });
    });
    after(async () => t?.close());

    it('answers the never-configured defaults, no indices, and 404 for searches', async () => {
      const c = await t.iot.send(new GetIndexingConfigurationCommand({}));
      assert.deepEqual(c.thingIndexingConfiguration, { thingIndexingMode: 'OFF', thingConnectivityIndexingMode: 'OFF' });
      assert.deepEqual(c.thingGroupIndexingConfiguration, { thingGroupIndexingMode: 'OFF' });
      assert.deepEqual((await t.iot.send(new ListIndicesCommand({}))).indexNames, []);
      await expectAwsError(t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' })), 'ResourceNotFoundException', { status: 404, message: 'Index AWS_Things does not exist.' });
      await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString: '*' })), 'ResourceNotFoundException', { status: 404, message: NOT_ENABLED });
    });

    it('refuses what AWS refuses and changes nothing', async () => {
      const refuse = async (input: object, message: RegExp) => {
        await expectAwsError(t.iot.send(new UpdateIndexingConfigurationCommand(input as never)), 'InvalidRequestException', { status: 400, message });
      };
      await refuse({ thingIndexingConfiguration: {} }, /thingIndexingMode.*must not be null/);
      await refuse({ thingIndexingConfiguration: { thingIndexingMode: 'SOMETIMES' } }, /thingIndexingMode/);
      await refuse({ thingIndexingConfiguration: { thingIndexingMode: 'OFF', thingConnectivityIndexingMode: 'STATUS' } }, /thingIndexMode must not be set to OFF/);
      await refuse({ thingIndexingConfiguration: { thingIndexingMode: 'OFF', namedShadowIndexingMode: 'ON' } }, /thingIndexMode must not be set to OFF/);
      const eleven = Array.from({ length: 11 }, (_, i) => `s${i}`);
      await refuse({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON', filter: { namedShadowNames: eleven } } }, /exceeds the limit of 10/);
      await refuse({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', customFields: [{ name: 'shadow.reported.temp', type: 'Number' }] } }, /REGISTRY_AND_SHADOW/);
      await refuse({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', customFields: [{ name: 'thingName', type: 'String' }] } }, /managed field/);
      await refuse({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', customFields: [{ name: 'attributes.a b', type: 'String' }] } }, /not valid/);
      await refuse({ thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'ON', customFields: [{ name: 'shadow.reported.x', type: 'String' }] } }, /attributes/);
      assert.equal((await t.iot.send(new GetIndexingConfigurationCommand({}))).thingIndexingConfiguration?.thingIndexingMode, 'OFF');
    });

    it('counts $package apart from the 10 named shadows, reports managed and custom fields, BUILDING then ACTIVE, REBUILDING on a change', async () => {
      const ten = Array.from({ length: 10 }, (_, i) => `s${i}`);
      await t.iot.send(new UpdateIndexingConfigurationCommand({
        thingIndexingConfiguration: {
          thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON', filter: { namedShadowNames: ['$package', ...ten] },
          customFields: [{ name: 'shadow.name.$package.reported.agent.version', type: 'String' }, { name: 'attributes.temp', type: 'Number' }],
        },
      }));
      const c = await t.iot.send(new GetIndexingConfigurationCommand({}));
      assert.equal(c.thingIndexingConfiguration?.thingConnectivityIndexingMode, 'OFF');
      assert.deepEqual(c.thingIndexingConfiguration?.filter?.namedShadowNames, ['$package', ...ten]);
      assert.deepEqual(c.thingIndexingConfiguration?.customFields?.map((f) => f.name), ['shadow.name.$package.reported.agent.version', 'attributes.temp']);
      const managed = c.thingIndexingConfiguration?.managedFields?.map((f) => `${f.name}:${f.type}`) ?? [];
      for (const f of ['thingName:String', 'thingId:String', 'registry.version:Number', 'shadow.name.*.hasDelta:Boolean']) assert.ok(managed.includes(f), f);
      assert.deepEqual((await t.iot.send(new ListIndicesCommand({}))).indexNames, ['AWS_Things']);

      const d = await t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' }));
      assert.deepEqual({ status: d.indexStatus, schema: d.schema }, { status: 'BUILDING', schema: 'MULTI_INDEXING_MODE' });
      await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString: 'thingName:x' })), 'IndexNotReadyException', { status: 400 });
      await t.advance(60_000);
      assert.equal((await t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' }))).indexStatus, 'ACTIVE');
      assert.deepEqual((await t.iot.send(new SearchIndexCommand({ queryString: 'thingName:x' }))).things, []);

      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY_AND_SHADOW', thingConnectivityIndexingMode: 'STATUS' }, thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'ON' } }));
      const rebuilding = await t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' }));
      assert.deepEqual({ status: rebuilding.indexStatus, schema: rebuilding.schema }, { status: 'REBUILDING', schema: 'REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS' });
      assert.deepEqual((await t.iot.send(new SearchIndexCommand({ queryString: 'thingName:x' }))).things, [], 'queries work while rebuilding');
      assert.deepEqual((await t.iot.send(new ListIndicesCommand({}))).indexNames, ['AWS_Things', 'AWS_ThingGroups']);
      const firstPage = await t.iot.send(new ListIndicesCommand({ maxResults: 1 }));
      assert.deepEqual(firstPage.indexNames, ['AWS_Things']);
      assert.deepEqual((await t.iot.send(new ListIndicesCommand({ maxResults: 1, nextToken: firstPage.nextToken }))).indexNames, ['AWS_ThingGroups']);
      assert.deepEqual(await t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_ThingGroups' })).then((r) => [r.indexStatus, r.schema]), ['ACTIVE', 'THING_GROUPS']);
      await t.advance(60_000);

      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'OFF' }, thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' } }));
      assert.deepEqual((await t.iot.send(new ListIndicesCommand({}))).indexNames, []);
      await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString: 'thingName:x' })), 'ResourceNotFoundException', { message: NOT_ENABLED });
      await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString: 'thingName:x', indexName: 'Nope' })), 'ResourceNotFoundException', { message: 'Index Nope does not exist.' });
    });

    it('builds the index over shadows stored before it existed, batch by batch, in the background', async () => {
      // A database from before migration 0016: 1,200 things whose $package shadows have no index rows.
      const db = t.server.store.db;
      const now = t.clock.now();
      const things = Array.from({ length: 1200 }, (_, i) => `old-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < things.length; i += 200) {
        const slice = things.slice(i, i + 200);
        await sql`insert into things (thing_name, thing_id, thing_type_name, billing_group_name, attributes, version, created_at)
          values ${sql.join(slice.map((n) => sql`(${n}, ${`id-${n}`}, null, null, '{}', 1, ${now})`))}`.execute(db);
        await sql`insert into shadows (thing_name, shadow_name, document, version, updated_at, deleted_at)
          values ${sql.join(slice.map((n, k) => sql`(${n}, '$package', ${JSON.stringify({ state: { reported: { agent: { version: (i + k) % 2 ? '1.0.0' : '2.0.0' } } } })}, 1, ${now}, null)`))}`.execute(db);
      }
      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON', filter: { namedShadowNames: ['$package'] } } }));
      assert.equal((await t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' }))).indexStatus, 'BUILDING');
      await t.advance(60_000);
      assert.equal((await t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' }))).indexStatus, 'ACTIVE');
      const found = await names(t.iot, 'shadow.name.$package.reported.agent.version:2.0.0');
      assert.equal(found.length, 600);
      assert.ok(found.includes('old-0000') && found.includes('old-1198'));
    });
  });

  describe(`SearchIndex (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let data: IoTDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend);
      data = iotDataClient(t);
      // Registry and shadows written before the index exists are found once it is built.
      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'pump' }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'Plant1' }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'line-a', parentGroupName: 'Plant1', thingGroupProperties: { thingGroupDescription: 'Line A', attributePayload: { attributes: { floor: '2' } } } }));
      await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'bill-eu' }));
      const things: [string, Record<string, string>, string?][] = [
        ['pump-01', { temp: '70', model: 'X100', serial: 'abcd' }, 'pump'],
        ['pump-02', { temp: '75', model: 'X200', serial: 'abce' }, 'pump'],
        ['pump-03', { temp: '80.5', model: 'legacy', serial: 'abcf' }, 'pump'],
        ['sensor-1', { temp: '-5', model: 'S1' }],
        ['Sensor-2', { model: 'S2' }],
      ];
      for (const [thingName, attributes, thingTypeName] of things) {
        await t.iot.send(new CreateThingCommand({ thingName, thingTypeName, attributePayload: { attributes } }));
      }
      await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'line-a', thingName: 'pump-01' }));
      await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'Plant1', thingName: 'pump-02' }));
      await t.iot.send(new AddThingToBillingGroupCommand({ billingGroupName: 'bill-eu', thingName: 'sensor-1' }));
      await shadow(data, 'pump-01', { reported: { location: 'New York harbour', battery: 90, on: true, values: [1, 2, 3] }, desired: { battery: 90 } });
      await shadow(data, 'pump-02', { reported: { location: 'Boston', battery: 40, on: false }, desired: { on: true } });
      await shadow(data, 'pump-01', { reported: { agent: { version: '2.0.1', attributes: { packageID: '1600' } }, fw: { version: '1.0.0' } } }, '$package');
      await shadow(data, 'pump-02', { reported: { agent: { version: '2.0.0' } } }, '$package');
      await shadow(data, 'pump-03', { reported: { agent: { version: '2.0.1', attributes: { packageID: '1200' } } } }, '$package');
      await shadow(data, 'pump-03', { reported: { mode: 'eco' } }, 'config');
      await shadow(data, 'sensor-1', { reported: { mode: 'eco' } }, 'secret');
      await t.iot.send(new UpdateIndexingConfigurationCommand(FULL));
    });
    after(async () => t?.close());

    const q = (queryString: string) => names(t.iot, queryString);

    it('matches registry fields case-insensitively, with wildcards, and thingGroupNames with billing groups', async () => {
      assert.deepEqual(await q('thingName:PUMP-01'), ['pump-01']);
      assert.deepEqual(await q('thingName:pump-0?'), ['pump-01', 'pump-02', 'pump-03']);
      assert.deepEqual(await q('thingName:sensor*'), ['Sensor-2', 'sensor-1']);
      assert.deepEqual(await q('thingName:*-2'), ['Sensor-2']);
      assert.deepEqual(await q('thingTypeName:pump AND NOT thingName:pump-03'), ['pump-01', 'pump-02']);
      assert.deepEqual(await q('thingGroupNames:line-a'), ['pump-01']);
      assert.deepEqual(await q('thingGroupNames:plant1'), ['pump-02'], 'direct memberships only');
      assert.deepEqual(await q('thingGroupNames:bill-eu'), ['sensor-1']);
      assert.deepEqual(await q('thingGroupNames:*'), ['pump-01', 'pump-02', 'sensor-1']);
      const id = (await t.iot.send(new SearchIndexCommand({ queryString: 'thingName:pump-02' }))).things![0].thingId!;
      assert.deepEqual(await q(`thingId:${id}`), ['pump-02']);
      assert.deepEqual(await q('registry.version>=1'), ['Sensor-2', 'pump-01', 'pump-02', 'pump-03', 'sensor-1']);
      assert.deepEqual(await q('*'), ['Sensor-2', 'pump-01', 'pump-02', 'pump-03', 'sensor-1']);
    });

    it('compares attributes as numbers when they read as numbers, else as strings, with ranges and comparisons', async () => {
      assert.deepEqual(await q('attributes.temp:[70 TO 75]'), ['pump-01', 'pump-02']);
      assert.deepEqual(await q('attributes.temp:{70 TO 80.5]'), ['pump-02', 'pump-03']);
      assert.deepEqual(await q('attributes.temp > 74'), ['pump-02', 'pump-03']);
      assert.deepEqual(await q('attributes.temp<0'), ['sensor-1']);
      assert.deepEqual(await q('attributes.temp<=70'), ['pump-01', 'sensor-1']);
      assert.deepEqual(await q('attributes.temp:[* TO 70}'), ['sensor-1']);
      assert.deepEqual(await q('attributes.temp:80.50'), ['pump-03']);
      assert.deepEqual(await q('attributes.serial:["abcd" TO "abce"]'), ['pump-01', 'pump-02']);
      assert.deepEqual(await q('attributes.model:x*'), ['pump-01', 'pump-02']);
      assert.deepEqual(await q('attributes.model:*'), ['Sensor-2', 'pump-01', 'pump-02', 'pump-03', 'sensor-1']);
      assert.deepEqual(await q('attributes.temp:*'), ['pump-01', 'pump-02', 'pump-03', 'sensor-1']);
      assert.deepEqual(await q('NOT attributes.temp:*'), ['Sensor-2']);
    });

    it('applies NOT over AND over OR, parentheses, field groups, - and adjacency', async () => {
      // AND binds tighter than OR: pump-01, plus the pumps of model legacy.
      assert.deepEqual(await q('thingName:pump-01 OR thingTypeName:pump AND attributes.model:legacy'), ['pump-01', 'pump-03']);
      assert.deepEqual(await q('(thingName:pump-01 OR thingTypeName:pump) AND attributes.model:legacy'), ['pump-03']);
      assert.deepEqual(await q('thingName:(pump* AND -pump-02)'), ['pump-01', 'pump-03']);
      assert.deepEqual(await q('attributes.model:(s1 OR s2)'), ['Sensor-2', 'sensor-1']);
      assert.deepEqual(await q('thingTypeName:pump NOT attributes.model:legacy'), ['pump-01', 'pump-02']);
      assert.deepEqual(await q('thingTypeName:pump attributes.temp>72'), ['pump-02', 'pump-03']);
      assert.deepEqual(await q('NOT NOT thingName:pump-01'), ['pump-01']);
      assert.deepEqual(await q('thingName:pump-01 || thingName:pump-02 && !thingName:pump-02'), ['pump-01']);
      assert.deepEqual(await q('x200'), ['pump-02'], 'a bare term searches every field');
    });

    it('searches the classic shadow, named shadows in the filter and $package, with the shadow as a JSON string', async () => {
      assert.deepEqual(await q('shadow.reported.location:york'), ['pump-01']);
      assert.deepEqual(await q('shadow.reported.location:"new york"'), ['pump-01']);
      assert.deepEqual(await q('shadow.reported.location:"york new"'), []);
      assert.deepEqual(await q('shadow.reported.battery:[50 TO 100]'), ['pump-01']);
      assert.deepEqual(await q('shadow.reported.on:true'), ['pump-01']);
      assert.deepEqual(await q('shadow.reported.values:2'), ['pump-01']);
      assert.deepEqual(await q('shadow.hasDelta:true'), ['pump-02']);
      assert.deepEqual(await q('shadow.desired.on:*'), ['pump-02']);
      assert.deepEqual(await q('shadow.name.config.reported.mode:eco'), ['pump-03']);
      assert.deepEqual(await q('shadow.name.*.reported.mode:eco'), ['pump-03'], 'shadows outside the filter are not indexed');
      assert.deepEqual(await q('shadow.name.secret.reported.mode:eco'), []);
      assert.deepEqual(await q('shadow.name.$package.reported.agent.version:2.0.1'), ['pump-01', 'pump-03']);
      assert.deepEqual(await q('shadow.name.$package.reported.agent.version:* AND NOT shadow.name.$package.reported.agent.version:2.0.1'), ['pump-02']);
      assert.deepEqual(await q('NOT shadow.name.$package.reported.fw.version:1.0.0'), ['Sensor-2', 'pump-02', 'pump-03', 'sensor-1']);
      assert.deepEqual(await q('shadow.name.$package.reported.totalCount:2'), ['pump-01']);
      assert.deepEqual(await q('shadow.name.$package.reported.*.attributes.packageID>1500'), ['pump-01']);
      assert.deepEqual(await q('shadow.name.$package.reported.agent.version:2.0.?'), ['pump-01', 'pump-02', 'pump-03']);

      const hit = (await t.iot.send(new SearchIndexCommand({ queryString: 'thingName:pump-01' }))).things![0];
      assert.equal(hit.thingTypeName, 'pump');
      assert.deepEqual(hit.thingGroupNames, ['line-a']);
      assert.deepEqual(hit.attributes, { temp: '70', model: 'X100', serial: 'abcd' });
      assert.deepEqual(hit.connectivity, { connected: false });
      const doc = JSON.parse(hit.shadow!);
      assert.equal(doc.reported.location, 'New York harbour');
      assert.equal(doc.desired.battery, 90);
      assert.equal(doc.hasDelta, false);
      assert.equal(typeof doc.metadata.reported.battery.timestamp, 'number');
      assert.deepEqual(doc.name.$package.reported.agent, { version: '2.0.1', attributes: { packageID: '1600' } });
      assert.equal(doc.name.$package.version, 1);
      const sensor = (await t.iot.send(new SearchIndexCommand({ queryString: 'thingName:sensor-1' }))).things![0];
      assert.equal(sensor.shadow, undefined, 'a shadow outside the filter is not shown');
      assert.deepEqual(sensor.thingGroupNames, ['bill-eu']);
    });

    it('follows every change at once: attributes, type, groups, shadows (REST and deletes), things deleted', async () => {
      await t.iot.send(new UpdateThingCommand({ thingName: 'Sensor-2', attributePayload: { attributes: { temp: '99' }, merge: true } }));
      assert.deepEqual(await q('attributes.temp:99'), ['Sensor-2']);
      await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'line-a', thingName: 'Sensor-2' }));
      assert.deepEqual(await q('thingGroupNames:line-a'), ['Sensor-2', 'pump-01']);
      await t.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'line-a', thingName: 'Sensor-2' }));
      assert.deepEqual(await q('thingGroupNames:line-a'), ['pump-01']);
      await shadow(data, 'pump-02', { reported: { agent: { version: '2.0.1' } } }, '$package');
      assert.deepEqual(await q('shadow.name.$package.reported.agent.version:2.0.1'), ['pump-01', 'pump-02', 'pump-03']);
      await data.send(new DeleteThingShadowCommand({ thingName: 'pump-03', shadowName: 'config' }));
      assert.deepEqual(await q('shadow.name.config.reported.mode:*'), []);
      await t.iot.send(new CreateThingCommand({ thingName: 'late' }));
      await shadow(data, 'late', { reported: { location: 'york' } });
      assert.deepEqual(await q('shadow.reported.location:york'), ['late', 'pump-01']);
      await t.iot.send(new DeleteThingCommand({ thingName: 'late' }));
      assert.deepEqual(await q('shadow.reported.location:york'), ['pump-01'], 'a shadow without a registered thing is not indexed');
    });

    it('records MQTT connects and disconnects as connectivity', async () => {
      const device = await TestDevice.connect(t.server.mqttUrl!, 'pump-03', { keepalive: 300 });
      const until = async (query: string, expected: string[]) => {
        // The broker records connectivity as the connection event comes, not before connect returns.
        const now = async () => ((await t.iot.send(new SearchIndexCommand({ queryString: query }))).things ?? []).map((x) => x.thingName!).sort();
        for (let i = 0; i < 200; i++) {
          if (JSON.stringify(await now()) === JSON.stringify(expected)) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.deepEqual(await q(query), expected);
      };
      await until('connectivity.connected:true', ['pump-03']);
      const hit = (await t.iot.send(new SearchIndexCommand({ queryString: 'thingName:pump-03' }))).things![0];
      assert.equal(hit.connectivity?.connected, true);
      assert.equal(hit.connectivity?.timestamp, t.clock.now(), 'epoch milliseconds');
      assert.ok((await q('connectivity.connected:false')).includes('pump-01'), 'never connected reads false');
      // A shadow written over MQTT is searchable once the device has its answer.
      await device.subscribe('shadow/name/config/update/+');
      const answer = await device.request('shadow/name/config/update', { state: { reported: { mode: 'turbo' } } });
      assert.equal(answer.accepted, true);
      assert.deepEqual(await q('shadow.name.config.reported.mode:turbo'), ['pump-03']);
      await device.client.endAsync();
      await until('connectivity.disconnectReason:client_initiated_disconnect', ['pump-03']);
      assert.deepEqual(await q(`connectivity.timestamp >= ${t.clock.now()}`), ['pump-03']);
      // A disconnect carries no session facts: those of the connect stay, and each event is a version.
      const row = await t.server.store.fleetIndex.getConnectivity('pump-03');
      assert.deepEqual([row?.connected, row?.keep_alive, row?.clean_session, row?.version], [0, 300, 1, 2]);
    });

    it('pages by maxResults (at most 100) with nextToken', async () => {
      const first = await t.iot.send(new SearchIndexCommand({ queryString: '*', maxResults: 2 }));
      assert.equal(first.things?.length, 2);
      assert.ok(first.nextToken);
      const rest = await t.iot.send(new SearchIndexCommand({ queryString: '*', maxResults: 500, nextToken: first.nextToken }));
      assert.equal(rest.things?.length, 3);
      assert.equal(rest.nextToken, undefined);
      await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString: '*', maxResults: 0 })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString: '*', nextToken: 'garbage' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString: 'thingName:x', nextToken: first.nextToken })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString: '*', queryVersion: '2099-01-01' })), 'InvalidRequestException', { status: 400 });
    });

    it('answers InvalidQueryException saying where the query is wrong', async () => {
      const bad = async (queryString: string, message: string | RegExp) => {
        await expectAwsError(t.iot.send(new SearchIndexCommand({ queryString })), 'InvalidQueryException', { status: 400, message });
      };
      await bad('colour:red', 'Unable to parse query, invalid field name, field name: colour, query string: colour:red');
      await bad('shadow.color:red', /invalid field name, field name: shadow.color/);
      await bad('thingName:(a OR b', /'\)' expected .* position 10.*query string: thingName:\(a OR b$/);
      await bad('thingName:a)', /unexpected '\)' at position 11/);
      await bad('thingName:', /a value is missing after 'thingName:' at position 10/);
      await bad('AND thingName:a', /unexpected 'AND' at position 0/);
      await bad('thingName:"abc', /unterminated quoted string at position 10/);
      await bad('attributes.temp:[1 TO', /at the end/);
      await bad('attributes.temp:[1 2]', /'TO' expected/);
      await bad('thingName:a@b', /unsupported character '@' at position 11/);
      await bad(Array.from({ length: 13 }, (_, i) => `thingName:t${i}`).join(' OR '), /too many terms \(13, at most 12\)/);
      await bad('thingName:*a OR thingName:*b', /only one term may start with a wildcard/);
      await bad(`thingName:*a OR attributes.model:${'x'.repeat(100)}`, /at most 100 characters/);
      await bad('shadow.name.$package.reported.agent.version>2.0.0', /not supported on package versions/);
      await bad('shadow.name.$package.reported.agent.version:[1 TO 2]', /not supported on package versions/);
      // Escaped and quoted special characters are fine.
      assert.deepEqual(await q('attributes.model:"a@b"'), []);
      assert.deepEqual(await q('thingName:pump\\-01'), ['pump-01']);
      assert.deepEqual(await q('thingName:*-01'), ['pump-01']);
    });

    it('searches AWS_ThingGroups', async () => {
      assert.deepEqual(await names(t.iot, 'thingGroupName:line*', 'AWS_ThingGroups'), ['line-a']);
      assert.deepEqual(await names(t.iot, 'parentGroupNames:plant1', 'AWS_ThingGroups'), ['line-a']);
      assert.deepEqual(await names(t.iot, 'attributes.floor:2', 'AWS_ThingGroups'), ['line-a']);
      assert.deepEqual(await names(t.iot, 'description:"line a"', 'AWS_ThingGroups'), ['line-a']);
      const r = await t.iot.send(new SearchIndexCommand({ indexName: 'AWS_ThingGroups', queryString: 'thingGroupNames:line-a' }));
      assert.deepEqual(r.things, []);
      assert.deepEqual({ ...r.thingGroups![0], thingGroupId: undefined }, { thingGroupName: 'line-a', thingGroupId: undefined, thingGroupDescription: 'Line A', attributes: { floor: '2' }, parentGroupNames: ['Plant1'] });
    });

    it('answers the AWS CLI', { skip: cliSkip }, async () => {
      const r = await runAwsCli(t.url, ['iot', 'search-index', '--query-string', 'shadow.name.$package.reported.agent.version:2.0.1 AND thingTypeName:pump']);
      assert.equal(r.code, 0, r.stderr);
      const found = (r.json as { things: { thingName: string; shadow: string }[] }).things;
      assert.deepEqual(found.map((x) => x.thingName), ['pump-01', 'pump-02', 'pump-03']);
      assert.equal(typeof found[0].shadow, 'string');
      const bad = await runAwsCli(t.url, ['iot', 'search-index', '--query-string', 'thingName:(a']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /InvalidQueryException/);
      const conf = await runAwsCli(t.url, ['iot', 'get-indexing-configuration']);
      assert.equal((conf.json as { thingIndexingConfiguration: { thingIndexingMode: string } }).thingIndexingConfiguration.thingIndexingMode, 'REGISTRY_AND_SHADOW');
    });
  });

  describe(`SearchIndex after a job's $package write (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    it('finds a device on its new version as soon as its execution has SUCCEEDED', async () => {
      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON', filter: { namedShadowNames: ['$package'] } } }));
      await t.iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/update-shadows' } }));
      await t.iot.send(new CreatePackageCommand({ packageName: 'agent' }));
      await t.iot.send(new CreatePackageVersionCommand({ packageName: 'agent', versionName: '2.0.0' }));
      await t.iot.send(new UpdatePackageVersionCommand({ packageName: 'agent', versionName: '2.0.0', action: 'PUBLISH' }));
      await seedGroup(t, 'fleet', ['dev-1', 'dev-2']);
      await t.iot.send(new CreateJobCommand({ jobId: 'up', targets: [groupArn('fleet')], document: '{}', destinationPackageVersions: [packageVersionArn('agent', '2.0.0')] }));
      const devices = jobsDataClient(t);
      try {
        const onNew = 'shadow.name.$package.reported.agent.version:2.0.0';
        assert.deepEqual(await names(t.iot, onNew), []);
        await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'dev-1' }));
        await devices.send(new UpdateJobExecutionCommand({ thingName: 'dev-1', jobId: 'up', status: 'SUCCEEDED' }));
        assert.deepEqual(await names(t.iot, onNew), ['dev-1']);
        assert.deepEqual(await names(t.iot, `thingGroupNames:fleet AND NOT ${onNew}`), ['dev-2']);
      } finally {
        devices.destroy();
      }
    });
  });
}
