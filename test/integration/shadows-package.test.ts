import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GetThingShadowCommand,
  ListNamedShadowsForThingCommand,
  UpdateThingShadowCommand,
  type IoTDataPlaneClient,
} from '@aws-sdk/client-iot-data-plane';
import { Arns } from '../../src/domain/arns.js';
import { DEFAULT_LIMITS } from '../../src/domain/context.js';
import type { ShadowEvents } from '../../src/domain/shadows/shadow-events.js';
import { ShadowService } from '../../src/domain/shadows/shadow-service.js';
import { testBackends } from '../support/backends.js';
import { decodeShadow, iotDataClient, nowSeconds } from '../support/iot-data.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

type Event = { kind: 'updated' | 'deleted'; [k: string]: unknown };

for (const backend of await testBackends()) {
  describe(`the reserved $package shadow (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let data: IoTDataPlaneClient;
    /** A second service on the running server's store, as Jobs holds one, with a recording event port. */
    let jobsSide: ShadowService;
    const events: Event[] = [];

    before(async () => {
      t = await startTestServer(backend);
      data = iotDataClient(t);
      const recorder: ShadowEvents = {
        updated: (e) => events.push({ kind: 'updated', ...e }),
        deleted: (e) => events.push({ kind: 'deleted', ...e }),
      };
      jobsSide = new ShadowService({ store: t.server.store, clock: t.clock, arns: new Arns(REGION, ACCOUNT), limits: DEFAULT_LIMITS }, recorder);
    });
    after(async () => {
      data?.destroy();
      await t?.close();
    });

    const update = async (thingName: string, doc: unknown) =>
      decodeShadow((await data.send(new UpdateThingShadowCommand({ thingName, shadowName: '$package', payload: JSON.stringify(doc) }))).payload);
    const get = async (thingName: string) => decodeShadow((await data.send(new GetThingShadowCommand({ thingName, shadowName: '$package' }))).payload);

    it('accepts only version and attributes per package and keeps no metadata', async () => {
      const accepted = await update('dev1', { state: { reported: { fw: { version: '1.0.0', attributes: { channel: 'beta' } }, os: { version: '5' } } } });
      assert.deepEqual(accepted, {
        state: { reported: { fw: { version: '1.0.0', attributes: { channel: 'beta' } }, os: { version: '5' } } },
        version: 1,
        timestamp: nowSeconds(t),
      });
      for (const reported of [{ fw: { version: '2', description: 'x' } }, { fw: '2.0.0' }, { fw: [1] }, { fw: { version: '2' }, os: { releaseNotes: 'n' } }]) {
        await expectAwsError(data.send(new UpdateThingShadowCommand({ thingName: 'dev1', shadowName: '$package', payload: JSON.stringify({ state: { reported } }) })),
          'InvalidRequestException', { status: 400, message: 'State contains an invalid node' });
      }
      // A null removes a package.
      await update('dev1', { state: { reported: { os: null } } });
      const doc = await get('dev1');
      assert.deepEqual(doc, { state: { reported: { fw: { version: '1.0.0', attributes: { channel: 'beta' } } } }, version: 2, timestamp: nowSeconds(t) });
      // It is an ordinary named shadow otherwise, listed like any other.
      assert.deepEqual((await data.send(new ListNamedShadowsForThingCommand({ thingName: 'dev1' }))).results, ['$package']);
      // The keyword rule belongs to $package only.
      const other = decodeShadow((await data.send(new UpdateThingShadowCommand({ thingName: 'dev1', shadowName: 'package',
        payload: JSON.stringify({ state: { reported: { fw: { description: 'x' } } } }) }))).payload);
      assert.ok(other.metadata);
    });

    it('records versions written by Jobs inside the caller\'s transaction, keeping attributes, and removes on null', async () => {
      await update('dev2', { state: { reported: { fw: { version: '1.0.0', attributes: { region: 'eu' } }, legacy: { version: '0.9' } } } });
      events.length = 0;

      await t.server.store.transaction((tx) => jobsSide.recordPackageVersions(tx, 'dev2', [
        { packageName: 'fw', versionName: '2.0.0' },
        { packageName: 'agent', versionName: '7' },
        { packageName: 'legacy', versionName: null },
      ]));
      const doc = await get('dev2');
      assert.deepEqual(doc.state, { reported: { fw: { version: '2.0.0', attributes: { region: 'eu' } }, agent: { version: '7' } } });
      assert.equal(doc.version, 2, 'one update, one version');
      assert.equal(doc.metadata, undefined);

      // Accepted document, no delta (nothing desired), documents with previous and current; no metadata anywhere.
      assert.equal(events.length, 1);
      const e = events[0] as Event & { accepted: Record<string, any>; delta?: unknown; documents: Record<string, any> };
      assert.equal(e.kind, 'updated');
      assert.equal(e.thingName, 'dev2');
      assert.equal(e.shadowName, '$package');
      assert.deepEqual(e.accepted, {
        state: { reported: { fw: { version: '2.0.0' }, agent: { version: '7' }, legacy: null } },
        version: 2,
        timestamp: nowSeconds(t),
      });
      assert.equal(e.delta, undefined);
      assert.deepEqual(e.documents.previous, { state: { reported: { fw: { version: '1.0.0', attributes: { region: 'eu' } }, legacy: { version: '0.9' } } }, version: 1 });
      assert.deepEqual(e.documents.current, { state: doc.state, version: 2 });

      // A first write creates the shadow (version 1, no `previous`); a thing in the registry is not needed.
      events.length = 0;
      await t.server.store.transaction((tx) => jobsSide.recordPackageVersions(tx, 'dev3', [{ packageName: 'fw', versionName: '1.0.0' }]));
      assert.deepEqual((await get('dev3')).state, { reported: { fw: { version: '1.0.0' } } });
      assert.equal((await get('dev3')).version, 1);
      assert.equal((events[0] as Event & { documents: Record<string, unknown> }).documents.previous, undefined);
    });

    it('announces nothing and changes nothing when the caller\'s transaction rolls back', async () => {
      await update('dev4', { state: { reported: { fw: { version: '1' } } } });
      events.length = 0;
      await assert.rejects(t.server.store.transaction(async (tx) => {
        await jobsSide.recordPackageVersions(tx, 'dev4', [{ packageName: 'fw', versionName: '2' }]);
        assert.equal(events.length, 0, 'nothing is announced before the commit');
        throw new Error('the job update failed');
      }), /the job update failed/);
      assert.equal(events.length, 0);
      const doc = await get('dev4');
      assert.deepEqual(doc.state, { reported: { fw: { version: '1' } } });
      assert.equal(doc.version, 1);
    });

    it('announces updates with their delta and deletes through the event port', async () => {
      events.length = 0;
      const payload = JSON.stringify({ state: { desired: { mode: 'eco', level: 3 }, reported: { mode: 'eco' } }, clientToken: 'ev-1' });
      await jobsSide.updateThingShadow({ thingName: 'dev5', shadowName: 'cfg', payload });
      const ts = nowSeconds(t);
      const e = events[0] as Event & { accepted: Record<string, any>; delta: Record<string, any>; documents: Record<string, any> };
      assert.equal(e.kind, 'updated');
      assert.equal(e.accepted.clientToken, 'ev-1');
      assert.deepEqual(e.delta, { version: 1, timestamp: ts, state: { level: 3 }, metadata: { level: { timestamp: ts } }, clientToken: 'ev-1' });
      assert.deepEqual(Object.keys(e.documents), ['current', 'timestamp', 'clientToken']);

      await jobsSide.deleteThingShadow({ thingName: 'dev5', shadowName: 'cfg', clientToken: 'ev-2' });
      assert.deepEqual(events[1], { kind: 'deleted', thingName: 'dev5', shadowName: 'cfg', response: { version: 1, timestamp: ts, clientToken: 'ev-2' } });
      // A refused request announces nothing.
      await assert.rejects(jobsSide.updateThingShadow({ thingName: 'dev5', payload: '{"state":{"delta":{}}}' }));
      assert.equal(events.length, 2);
    });
  });
}
