import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DetachPolicyCommand,
  IoTClient,
  RemoveThingFromThingGroupCommand,
} from '@aws-sdk/client-iot';
import { startServer, type RunningServer } from '../../src/app.js';
import { VirtualClock } from '../../src/clock.js';
import { resolveConfig } from '../../src/config/config.js';
import { POSTGRES_URL, testBackends } from '../support/backends.js';
import { FleetProcess, FleetStorage } from '../support/fleet-process.js';
import { subscribeRaw, TestDevice } from '../support/mqtt.js';
import { mqttUrlOf } from '../support/serve-process.js';
import { ACCOUNT, REGION, startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const arn = (resource: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${resource}`;
const groupArn = (name: string) => arn(`thinggroup/${name}`);
const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** Looks at the device until `check` holds, for at most 10 s of real time; `between` runs between looks. */
async function pollDevice(what: string, check: () => Promise<boolean> | boolean, between?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`A never saw it: ${what}`);
    await between?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Decision 0049: a policy change made through one instance reaches the live MQTT connections of
 * another instance on the same PostgreSQL database within about a second, as on the instance that
 * made it. Devices connect to A; every change goes through B's control plane. On SQLite (one
 * instance per data dir) B is A itself: the same changes, heard at once.
 */
for (const backend of await testBackends()) {
  describe(`policy changes reach other instances' MQTT connections (${backend.name})`, { skip: backend.skip }, () => {
    let a: TestServer;
    let second: RunningServer | undefined;
    /** B's control plane. */
    let b: IoTClient;
    const devices: TestDevice[] = [];
    const connect = async (thingName: string) => {
      const d = await TestDevice.connect(a.server.mqttUrl!, thingName);
      devices.push(d);
      return d;
    };
    /** A's engine stepped between looks: the change log is read at most every 200 ms, and a re-bind is a query away. */
    const eventually = (what: string, check: () => Promise<boolean> | boolean) => pollDevice(what, check, () => a.server.engine.step());

    before(async () => {
      a = await startTestServer(backend);
      if (backend.name === 'postgres') {
        // The second instance: the same schema and data dir (decision 0045), its own clock and engine.
        const config = resolveConfig({ port: 0, mqttPort: 0, dataDir: a.dataDir, databaseUrl: POSTGRES_URL }, { FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey });
        second = await startServer({ config, clock: new VirtualClock(Date.now()), logger: pino({ level: 'silent' }), databaseSchema: a.schema });
        b = new IoTClient({ endpoint: second.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      } else {
        b = a.iot;
      }
    });
    after(async () => {
      for (const d of devices) await d.close().catch(() => undefined);
      if (second) {
        b.destroy();
        await second.close();
      }
      await a?.close();
    });

    it('the first attachment anywhere reaches a device A bound while nothing was attached (A forgets "nothing attached")', async () => {
      await b.send(new CreateThingGroupCommand({ thingGroupName: 'pn-fleet' }));
      for (const thingName of ['pn-a', 'pn-b']) {
        await b.send(new CreateThingCommand({ thingName }));
        await b.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: 'pn-fleet' }));
      }
      const d = await connect('pn-a');
      // The default policy: its own topics only.
      assert.deepEqual(await subscribeRaw(d, 'fleet/#'), [128]);
      await b.send(new CreatePolicyCommand({ policyName: 'pn-policy', policyDocument: policy({ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' }) }));
      await b.send(new AttachPolicyCommand({ policyName: 'pn-policy', target: groupArn('pn-fleet') }));
      await eventually('the group policy allows fleet/#', async () => (await subscribeRaw(d, 'fleet/#'))[0] === 1);
      // A new connection on A is bound under it too.
      const e = await connect('pn-b');
      assert.deepEqual(await subscribeRaw(e, 'fleet/#', 'other/#'), [1, 1]);
    });

    it('a new default version with a Deny, made through B, makes A refuse the topics it denies from then on', async () => {
      const d = devices[0];
      await b.send(new CreatePolicyVersionCommand({
        policyName: 'pn-policy',
        setAsDefault: true,
        policyDocument: policy({ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' }, { Effect: 'Deny', Action: 'iot:Subscribe', Resource: arn('topicfilter/fleet/*') }),
      }));
      await eventually('fleet/# is denied', async () => (await subscribeRaw(d, 'fleet/#'))[0] === 128);
      assert.deepEqual(await subscribeRaw(d, 'fleet/#', 'other/#'), [128, 1], 'refused from then on; what it allows still is');
    });

    it('a detach and a thing leaving its group, through B, put A\'s connections back under the default policy', async () => {
      const [d, e] = devices;
      await b.send(new DetachPolicyCommand({ policyName: 'pn-policy', target: groupArn('pn-fleet') }));
      await eventually('other/# is no longer allowed to pn-a', async () => (await subscribeRaw(d, 'other/#'))[0] === 128);
      assert.deepEqual(await subscribeRaw(e, 'other/#'), [128], 'every connection of the group');
      assert.deepEqual(await d.subscribe('jobs/notify'), [1], 'its own topics, as the default policy allows');
      await b.send(new AttachPolicyCommand({ policyName: 'pn-policy', target: groupArn('pn-fleet') }));
      await eventually('pn-b is under the group policy again', async () => (await subscribeRaw(e, 'other/#'))[0] === 1);
      // One thing's groups: only its connections change.
      await b.send(new RemoveThingFromThingGroupCommand({ thingName: 'pn-b', thingGroupName: 'pn-fleet' }));
      await eventually('pn-b, out of the group, is back to the default policy', async () => (await subscribeRaw(e, 'other/#'))[0] === 128);
      assert.deepEqual(await subscribeRaw(d, 'other/#'), [1], 'pn-a is still in the group');
    });

    it('a version that no longer allows iot:Connect, made through B, closes the device\'s connection on A, and A refuses it again', async () => {
      const d = devices[0];
      let closed = false;
      d.client.once('close', () => (closed = true));
      await b.send(new CreatePolicyVersionCommand({
        policyName: 'pn-policy',
        setAsDefault: true,
        policyDocument: policy({ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' }, { Effect: 'Deny', Action: 'iot:Connect', Resource: arn('client/pn-a') }),
      }));
      await eventually('pn-a is disconnected', () => closed);
      await assert.rejects(TestDevice.connect(a.server.mqttUrl!, 'pn-a'), /Not authorized/);
    });
  });
}

/**
 * The same across two `fleetjobs serve` processes on one PostgreSQL: nothing steps A's engine but
 * its own loop (at least once a second), so the device sees the change within a few seconds.
 */
for (const backend of (await testBackends()).filter((x) => x.name === 'postgres')) {
  describe(`policy changes across two fleetjobs processes (${backend.name})`, { skip: backend.skip }, () => {
    let storage: FleetStorage;
    let a: FleetProcess;
    let b: FleetProcess;
    let device: TestDevice | undefined;
    before(async () => {
      storage = await FleetStorage.create(backend);
      a = await FleetProcess.start(storage);
      b = await FleetProcess.start(storage);
    });
    after(async () => {
      await device?.close().catch(() => undefined);
      a?.kill();
      b?.kill();
      await storage?.destroy();
    });

    it('a Deny made through B refuses a topic to a device on A, then one on iot:Connect closes it', async () => {
      const eventually = pollDevice;
      await b.iot.send(new CreateThingGroupCommand({ thingGroupName: 'pp-fleet' }));
      await b.iot.send(new CreateThingCommand({ thingName: 'pp-a' }));
      await b.iot.send(new AddThingToThingGroupCommand({ thingName: 'pp-a', thingGroupName: 'pp-fleet' }));
      await b.iot.send(new CreatePolicyCommand({ policyName: 'pp-policy', policyDocument: policy({ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' }) }));
      await b.iot.send(new AttachPolicyCommand({ policyName: 'pp-policy', target: groupArn('pp-fleet') }));
      const mqttUrl = mqttUrlOf(a.proc.lines[0]);
      assert.ok(mqttUrl, a.proc.lines[0]);
      const d = (device = await TestDevice.connect(mqttUrl, 'pp-a'));
      assert.deepEqual(await subscribeRaw(d, 'fleet/#'), [1]);
      await b.iot.send(new CreatePolicyVersionCommand({
        policyName: 'pp-policy',
        setAsDefault: true,
        policyDocument: policy({ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' }, { Effect: 'Deny', Action: 'iot:Subscribe', Resource: arn('topicfilter/fleet/*') }),
      }));
      await eventually('fleet/# is denied', async () => (await subscribeRaw(d, 'fleet/#'))[0] === 128);
      let closed = false;
      d.client.once('close', () => (closed = true));
      await b.iot.send(new CreatePolicyVersionCommand({
        policyName: 'pp-policy',
        setAsDefault: true,
        policyDocument: policy({ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' }, { Effect: 'Deny', Action: 'iot:Connect', Resource: arn('client/pp-a') }),
      }));
      await eventually('pp-a is disconnected', () => closed);
      await assert.rejects(TestDevice.connect(mqttUrl, 'pp-a'), /Not authorized/);
    });
  });
}
