import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToBillingGroupCommand,
  AddThingToThingGroupCommand,
  CreateBillingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  UpdateIndexingConfigurationCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { compileGroupQuery } from '../../src/domain/indexing/dynamic-group-query.js';
import { matchesDocument, thingDocument } from '../../src/domain/indexing/document-match.js';
import { DEFAULT_QUERY_LIMITS } from '../../src/domain/indexing/index-fields.js';
import type { ThingIndexingConfiguration } from '../../src/domain/indexing/indexing-config.js';
import { testBackends } from '../support/backends.js';
import { iotDataClient } from '../support/iot-data.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * A dynamic group's membership check evaluates its query on the thing's document in memory
 * (document-match.ts); SearchIndex compiles the same query to SQL. Both must agree on every query
 * for every thing: here, query by query, the in-memory answer against the database's.
 */
const QUERIES = [
  'thingName:pump-1', 'thingName:PUMP-1', 'thingName:pump-*', 'thingName:pump-?', 'thingName:*2', 'thingId:*',
  'thingTypeName:pump', 'thingTypeName:*', 'NOT thingTypeName:*', 'registry.version:1', 'registry.version > 1',
  'attributes.site:north', 'attributes.site:NORTH', 'attributes.floor:3', 'attributes.floor:3.0', 'attributes.floor > 2', 'attributes.floor:[3 TO 7]',
  'attributes.floor:{3 TO 7]', 'attributes.floor < 4', 'attributes.site:*', 'attributes.site:nor*', 'NOT attributes.site:*', 'attributes.note:blue_pump', 'attributes.note:blue*',
  'attributes.site:[a TO n]', 'thingName:[pump-1 TO pump-2]',
  'thingGroupNames:lab', 'thingGroupNames:*', 'thingGroupNames:lab-billing', 'NOT thingGroupNames:*',
  'shadow.reported.temp > 20', 'shadow.reported.temp:21', 'shadow.reported.mode:eco', 'shadow.reported.mode:"super eco"', 'shadow.reported.mode:*', 'shadow.desired.mode:turbo',
  'shadow.hasDelta:true', 'shadow.hasDelta:false', 'shadow.delta.mode:*', 'shadow.reported.tags:a', 'shadow.reported.on:true',
  'shadow.name.$package.reported.agent.version:2.0.1', 'shadow.name.$package.reported.agent.version:2.0.*', 'shadow.name.$package.reported.totalCount:2',
  'shadow.name.*.reported.agent.version:*', 'shadow.name.$package.reported.*.version:1.0.0', 'shadow.reported.mode:[a TO f]',
  'connectivity.connected:true', 'connectivity.connected:false',
  'north', 'eco', '2.0.1', 'lab', 'pump',
  'attributes.site:north AND shadow.reported.temp > 20', 'attributes.site:north OR thingGroupNames:lab', 'NOT (attributes.site:north OR shadow.reported.mode:eco)',
  'attributes.site:north AND NOT shadow.name.$package.reported.agent.version:2.0.1', 'attributes.site:[a TO n] AND attributes.floor:3', 'attributes.site:[a TO n] OR attributes.floor:3',
];

const CONFIG: ThingIndexingConfiguration = {
  thingIndexingMode: 'REGISTRY_AND_SHADOW',
  thingConnectivityIndexingMode: 'STATUS',
  namedShadowIndexingMode: 'ON',
  filter: { namedShadowNames: ['$package', 'config'] },
} as ThingIndexingConfiguration;

async function shadow(data: IoTDataPlaneClient, thingName: string, state: unknown, shadowName?: string): Promise<void> {
  await data.send(new UpdateThingShadowCommand({ thingName, ...(shadowName ? { shadowName } : {}), payload: new TextEncoder().encode(JSON.stringify({ state })) }));
}

for (const backend of await testBackends()) {
  describe(`dynamic group matching in memory agrees with the index's SQL (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let data: IoTDataPlaneClient;
    const things = ['pump-1', 'pump-2', 'pump-3', 'valve-9', 'bare'];
    before(async () => {
      t = await startTestServer(backend);
      data = iotDataClient(t);
      await t.iot.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: CONFIG as never }));
      await t.iot.send(new CreateThingTypeCommand({ thingTypeName: 'pump' }));
      await t.iot.send(new CreateThingCommand({ thingName: 'pump-1', thingTypeName: 'pump', attributePayload: { attributes: { site: 'north', floor: '3', note: 'blue_pump' } } }));
      await t.iot.send(new CreateThingCommand({ thingName: 'pump-2', thingTypeName: 'pump', attributePayload: { attributes: { site: 'south', floor: '7.5' } } }));
      await t.iot.send(new CreateThingCommand({ thingName: 'pump-3', attributePayload: { attributes: { site: 'North-East', floor: '3.0' } } }));
      await t.iot.send(new CreateThingCommand({ thingName: 'valve-9', attributePayload: { attributes: { floor: 'ground' } } }));
      await t.iot.send(new CreateThingCommand({ thingName: 'bare' }));
      await t.iot.send(new UpdateThingCommand({ thingName: 'pump-2', attributePayload: { attributes: { floor: '7.5' }, merge: true } }));
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'lab' }));
      await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'lab', thingName: 'pump-2' }));
      await t.iot.send(new CreateBillingGroupCommand({ billingGroupName: 'lab-billing' }));
      await t.iot.send(new AddThingToBillingGroupCommand({ billingGroupName: 'lab-billing', thingName: 'valve-9' }));
      await shadow(data, 'pump-1', { reported: { temp: 21, mode: 'super eco', tags: ['a', 'b'], on: true }, desired: { mode: 'turbo' } });
      await shadow(data, 'pump-2', { reported: { temp: 19.5, mode: 'eco' } });
      await shadow(data, 'pump-3', { reported: { agent: { version: '2.0.1' }, fw: { version: '1.0.0' } } }, '$package');
      await shadow(data, 'valve-9', { reported: { agent: { version: '2.0.0' } } }, '$package');
      await shadow(data, 'valve-9', { reported: { mode: 'Eco' } }, 'config');
      // Connectivity as the MQTT door records it.
      await t.server.store.transaction(async (tx) => tx.fleetIndex.putConnectivity({
        thing_name: 'pump-1', connected: 1, timestamp: t.clock.now(), disconnect_reason: null, client_id: 'pump-1', keep_alive: 30, clean_session: 1, session_expiry: null, version: 1,
      }));
    });
    after(async () => {
      data?.destroy();
      await t?.close();
    });

    it('answers every query as the database does, or leaves it to the database', async () => {
      const store = t.server.store;
      let undecided = 0;
      for (const query of QUERIES) {
        const { predicate } = compileGroupQuery(query, CONFIG, DEFAULT_QUERY_LIMITS);
        for (const thing of things) {
          const [inSql] = await store.dynamicGroups.matchInSql(thing, [predicate]);
          const row = (await store.dynamicGroups.loadDocument(thing))!;
          const doc = thingDocument(row, await store.dynamicGroups.termsOf(thing, ['', '$package', 'config']));
          const inMemory = matchesDocument(predicate, doc);
          if (inMemory === undefined) {
            undecided++;
            continue;
          }
          assert.equal(inMemory, inSql, `${query} on ${thing}`);
        }
      }
      // Only the string ranges go to the database.
      assert.ok(undecided > 0 && undecided <= 6 * things.length, `${undecided} undecided`);
    });
  });
}
