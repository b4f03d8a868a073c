import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  ListNamedShadowsForThingCommand,
  UpdateThingShadowCommand,
  type IoTDataPlaneClient,
} from '@aws-sdk/client-iot-data-plane';
import { testBackends } from '../support/backends.js';
import { decodeShadow, iotDataClient, nowSeconds } from '../support/iot-data.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

for (const backend of await testBackends()) {
  describe(`device shadows over iot-data (${backend.name})`, { skip: backend.skip }, () => {
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

    const update = async (thingName: string, doc: unknown, shadowName?: string) =>
      decodeShadow((await data.send(new UpdateThingShadowCommand({ thingName, shadowName, payload: JSON.stringify(doc) }))).payload);
    const get = async (thingName: string, shadowName?: string) =>
      decodeShadow((await data.send(new GetThingShadowCommand({ thingName, shadowName }))).payload);
    const del = async (thingName: string, shadowName?: string) =>
      decodeShadow((await data.send(new DeleteThingShadowCommand({ thingName, shadowName }))).payload);

    it('keeps desired and reported of a classic shadow, with per-leaf metadata, delta and metadata.delta', async () => {
      // No registry thing is needed, and there is no shadow before the first update.
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'lamp' })), 'ResourceNotFoundException',
        { status: 404, message: "No shadow exists with name: 'lamp'" });

      const t1 = nowSeconds(t);
      const accepted = await update('lamp', { state: { desired: { color: 'RED', rgb: [255, 255, 0], engine: { on: true } } }, clientToken: 'tok-1' });
      assert.deepEqual(accepted, {
        state: { desired: { color: 'RED', rgb: [255, 255, 0], engine: { on: true } } },
        metadata: { desired: { color: { timestamp: t1 }, rgb: [{ timestamp: t1 }, { timestamp: t1 }, { timestamp: t1 }], engine: { on: { timestamp: t1 } } } },
        version: 1,
        timestamp: t1,
        clientToken: 'tok-1',
      });

      t.clock.advance(30_000);
      const t2 = nowSeconds(t);
      const second = await update('lamp', { state: { reported: { color: 'GREEN', rgb: [255, 255, 0], engine: { on: false } } } });
      assert.equal(second.version, 2);
      assert.equal(second.clientToken, undefined, 'clientToken only when the request had one');

      t.clock.advance(5_000);
      const doc = await get('lamp');
      assert.deepEqual(doc, {
        state: {
          desired: { color: 'RED', rgb: [255, 255, 0], engine: { on: true } },
          reported: { color: 'GREEN', rgb: [255, 255, 0], engine: { on: false } },
          delta: { color: 'RED', engine: { on: true } },
        },
        metadata: {
          desired: { color: { timestamp: t1 }, rgb: [{ timestamp: t1 }, { timestamp: t1 }, { timestamp: t1 }], engine: { on: { timestamp: t1 } } },
          reported: { color: { timestamp: t2 }, rgb: [{ timestamp: t2 }, { timestamp: t2 }, { timestamp: t2 }], engine: { on: { timestamp: t2 } } },
          delta: { color: { timestamp: t1 }, engine: { on: { timestamp: t1 } } },
        },
        version: 2,
        timestamp: nowSeconds(t),
      });
      assert.ok(Number.isInteger(doc.timestamp));

      // Only the leaves written get a new timestamp; reported catching up clears the delta, not desired.
      t.clock.advance(10_000);
      const t3 = nowSeconds(t);
      await update('lamp', { state: { reported: { color: 'RED', engine: { on: true } } } });
      const caughtUp = await get('lamp');
      assert.equal(caughtUp.state.delta, undefined);
      assert.equal(caughtUp.metadata.delta, undefined);
      assert.deepEqual(caughtUp.state.desired, { color: 'RED', rgb: [255, 255, 0], engine: { on: true } });
      assert.deepEqual(caughtUp.metadata.reported, { color: { timestamp: t3 }, rgb: [{ timestamp: t2 }, { timestamp: t2 }, { timestamp: t2 }], engine: { on: { timestamp: t3 } } });
      assert.equal(caughtUp.version, 3);
    });

    it('replaces arrays whole and compares numbers by value in the delta', async () => {
      await update('arr', { state: { desired: { rgb: [1, 2, 3], n: 1 }, reported: { rgb: [1, 2, 3, 4], n: 1.0 } } });
      assert.deepEqual((await get('arr')).state.delta, { rgb: [1, 2, 3] });
      await update('arr', { state: { reported: { rgb: [1, 2, 3] } } });
      const doc = await get('arr');
      assert.deepEqual(doc.state.reported, { rgb: [1, 2, 3], n: 1 });
      assert.equal(doc.state.delta, undefined);
    });

    it('deletes keys, sections and the whole state on null without deleting the shadow', async () => {
      await update('nulls', { state: { desired: { a: 1, b: { c: 2, d: 3 } }, reported: { a: 1, x: 9 } } });
      const accepted = await update('nulls', { state: { desired: { b: { c: null } }, reported: { x: null } } });
      const ts = nowSeconds(t);
      assert.deepEqual(accepted.state, { desired: { b: { c: null } }, reported: { x: null } }, 'the request state is echoed as sent');
      assert.deepEqual(accepted.metadata, { desired: { b: { c: { timestamp: ts } } }, reported: { x: { timestamp: ts } } });
      let doc = await get('nulls');
      assert.deepEqual(doc.state, { desired: { a: 1, b: { d: 3 } }, reported: { a: 1 }, delta: { b: { d: 3 } } });
      assert.equal(doc.metadata.desired.b.c, undefined, 'a removed key loses its metadata');

      await update('nulls', { state: { desired: null } });
      doc = await get('nulls');
      assert.deepEqual(doc.state, { reported: { a: 1 } });
      assert.deepEqual(Object.keys(doc.metadata), ['reported']);

      await update('nulls', { state: null });
      doc = await get('nulls');
      assert.deepEqual(doc.state, {});
      assert.equal(doc.version, 4);
    });

    it('checks a request version against the current one and answers 409 on a mismatch', async () => {
      // A shadow that does not exist has version 0.
      await expectAwsError(data.send(new UpdateThingShadowCommand({ thingName: 'ver', payload: JSON.stringify({ state: { reported: { a: 1 } }, version: 1 }) })),
        'ConflictException', { status: 409, message: 'Version conflict' });
      assert.equal((await update('ver', { state: { reported: { a: 1 } }, version: 0 })).version, 1);
      assert.equal((await update('ver', { state: { reported: { a: 2 } }, version: 1 })).version, 2);
      await expectAwsError(data.send(new UpdateThingShadowCommand({ thingName: 'ver', payload: JSON.stringify({ state: { reported: { a: 3 } }, version: 1 }) })),
        'ConflictException', { status: 409, message: 'Version conflict' });
      await expectAwsError(data.send(new UpdateThingShadowCommand({ thingName: 'ver', payload: JSON.stringify({ state: { reported: { a: 3 } }, version: 3 }) })),
        'ConflictException', { status: 409 });
      const doc = await get('ver');
      assert.equal(doc.version, 2);
      assert.deepEqual(doc.state.reported, { a: 2 });
    });

    it('bumps the version by exactly one per update, also for concurrent writers', async () => {
      const versions = await Promise.all(Array.from({ length: 8 }, (_, i) => update('busy', { state: { reported: { [`k${i}`]: i } } }).then((d) => d.version as number)));
      assert.deepEqual([...versions].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
      const doc = await get('busy');
      assert.equal(doc.version, 8);
      assert.equal(Object.keys(doc.state.reported).length, 8);
    });

    it('keeps a deleted shadow\'s version for 48 hours, then starts again at 1', async () => {
      await update('tomb', { state: { desired: { a: 1 } } });
      await update('tomb', { state: { reported: { a: 1 } } });
      await update('tomb', { state: { desired: { a: 2 } } });
      const deleted = await del('tomb');
      assert.deepEqual(deleted, { version: 3, timestamp: nowSeconds(t) }, 'delete answers the current version and does not bump it');
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'tomb' })), 'ResourceNotFoundException', { status: 404, message: "No shadow exists with name: 'tomb'" });
      await expectAwsError(data.send(new DeleteThingShadowCommand({ thingName: 'tomb' })), 'ResourceNotFoundException', { status: 404 });

      // Recreated within the window: continues from the deleted version, and a version precondition compares with it.
      await expectAwsError(data.send(new UpdateThingShadowCommand({ thingName: 'tomb', payload: JSON.stringify({ state: { desired: { b: 1 } }, version: 0 }) })),
        'ConflictException', { status: 409 });
      t.clock.advance(47 * 3600_000);
      const recreated = await update('tomb', { state: { desired: { b: 1 } }, version: 3 });
      assert.equal(recreated.version, 4);
      assert.deepEqual((await get('tomb')).state, { desired: { b: 1 }, delta: { b: 1 } }, 'nothing of the deleted document survives');

      assert.equal((await del('tomb')).version, 4);
      t.clock.advance(49 * 3600_000);
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'tomb' })), 'ResourceNotFoundException');
      assert.equal((await update('tomb', { state: { desired: { c: 1 } } })).version, 1);
    });

    it('keeps named shadows apart from each other and from the classic shadow', async () => {
      await update('multi', { state: { desired: { which: 'cfg' } } }, 'cfg');
      await update('multi', { state: { desired: { which: 'other' } } }, 'other');
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'multi' })), 'ResourceNotFoundException',
        { message: "No shadow exists with name: 'multi'" });
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'multi', shadowName: 'missing' })), 'ResourceNotFoundException',
        { status: 404, message: "No shadow exists with name: 'missing'" });
      assert.equal((await get('multi', 'cfg')).state.desired.which, 'cfg');
      assert.equal((await get('multi', 'other')).version, 1);
      await update('multi', { state: { desired: { which: 'classic' } } });
      assert.equal((await del('multi', 'cfg')).version, 1);
      await expectAwsError(data.send(new GetThingShadowCommand({ thingName: 'multi', shadowName: 'cfg' })), 'ResourceNotFoundException',
        { message: "No shadow exists with name: 'cfg'" });
      assert.equal((await get('multi')).state.desired.which, 'classic');
      assert.equal((await get('multi', 'other')).state.desired.which, 'other');
      // Thing names with ':' are legal and percent-encoded by the SDK.
      assert.equal((await update('t:1', { state: { reported: { ok: true } } }, 'a:b')).version, 1);
      assert.equal((await get('t:1', 'a:b')).state.reported.ok, true);
    });

    it('lists named shadows by name in pages, never the classic shadow or deleted ones', async () => {
      await update('lister', { state: { reported: { classic: true } } });
      for (const name of ['e', 'b', '$package', 'd', 'a', 'c']) {
        await update('lister', { state: { reported: name === '$package' ? { p: { version: '1' } } : { n: name } } }, name);
      }
      await del('lister', 'd');
      const first = await data.send(new ListNamedShadowsForThingCommand({ thingName: 'lister', pageSize: 2 }));
      assert.deepEqual(first.results, ['$package', 'a']);
      assert.equal(first.timestamp, nowSeconds(t));
      assert.ok(first.nextToken);
      const second = await data.send(new ListNamedShadowsForThingCommand({ thingName: 'lister', pageSize: 2, nextToken: first.nextToken }));
      assert.deepEqual(second.results, ['b', 'c']);
      const third = await data.send(new ListNamedShadowsForThingCommand({ thingName: 'lister', pageSize: 2, nextToken: second.nextToken }));
      assert.deepEqual(third.results, ['e']);
      assert.equal(third.nextToken, undefined);

      const all = await data.send(new ListNamedShadowsForThingCommand({ thingName: 'lister' }));
      assert.deepEqual(all.results, ['$package', 'a', 'b', 'c', 'e']);
      assert.equal(all.nextToken, undefined);
      // Unknown things and things with only a classic shadow answer an empty list.
      assert.deepEqual((await data.send(new ListNamedShadowsForThingCommand({ thingName: 'nobody' }))).results, []);
      assert.deepEqual((await data.send(new ListNamedShadowsForThingCommand({ thingName: 'lamp' }))).results, []);

      await expectAwsError(data.send(new ListNamedShadowsForThingCommand({ thingName: 'lister', pageSize: 0 })), 'InvalidRequestException', { status: 400, message: 'pageSize' });
      await expectAwsError(data.send(new ListNamedShadowsForThingCommand({ thingName: 'lister', pageSize: 101 })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(data.send(new ListNamedShadowsForThingCommand({ thingName: 'lister', nextToken: 'garbage' })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(data.send(new ListNamedShadowsForThingCommand({ thingName: 'other', nextToken: first.nextToken })), 'InvalidRequestException',
        { status: 400 });
    });
  });
}
