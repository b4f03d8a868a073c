import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AddThingToThingGroupCommand, AttachPolicyCommand, CreatePolicyCommand, CreatePolicyVersionCommand, CreateThingCommand, CreateThingGroupCommand, DetachPolicyCommand, RemoveThingFromThingGroupCommand } from '@aws-sdk/client-iot';
import mqtt from 'mqtt';
import { testBackends } from '../support/backends.js';
import { subscribeRaw, TestDevice } from '../support/mqtt.js';
import { ACCOUNT, REGION, startTestServer, type TestServer } from '../support/server.js';

const arn = (resource: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${resource}`;
const groupArn = (name: string) => arn(`thinggroup/${name}`);
const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const refusedAtConnect = (url: string, clientId: string) => assert.rejects(mqtt.connectAsync(url, { clientId, reconnectPeriod: 0, connectTimeout: 5000 }), /Not authorized/);
const closed = (d: TestDevice) => new Promise<void>((resolve) => d.client.once('close', () => resolve()));

for (const backend of await testBackends()) {
  describe(`MQTT under IoT policies (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const devices: TestDevice[] = [];
    const connect = async (thingName: string) => {
      const d = await TestDevice.connect(t.server.mqttUrl!, thingName);
      devices.push(d);
      return d;
    };
    const thing = async (thingName: string, group?: string) => {
      await t.iot.send(new CreateThingCommand({ thingName }));
      if (group) await t.iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: group }));
    };
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => {
      for (const d of devices) await d.close().catch(() => undefined);
      await t?.close();
    });

    it('the default policy (own-thing): its own topics only, and no connection for a client id that is no thing', async () => {
      await thing('pol-a');
      const a = await connect('pol-a');
      assert.deepEqual(await a.subscribe('jobs/notify-next', '$aws/things/pol-b/jobs/notify', '$aws/things/+/jobs/notify'), [1, 128, 128]);
      assert.deepEqual(await subscribeRaw(a, 'fleet/#', '#'), [128, 128]);
      assert.ok((await a.request('jobs/get')).accepted);
      await refusedAtConnect(t.server.mqttUrl!, 'pol-ghost');
      const gone = closed(a);
      a.client.publish('fleet/anything', 'x', { qos: 1 });
      await gone;
    });

    it('a thing whose group has a policy gets exactly what it allows, and an explicit Deny overrides an Allow', async () => {
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'pol-fleet' }));
      await t.iot.send(new CreatePolicyCommand({
        policyName: 'pol-fleet-policy',
        policyDocument: policy(
          { Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client/${iot:Connection.Thing.ThingName}') },
          { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: [arn('topic/fleet/*'), arn('topic/$aws/things/${iot:ClientId}/jobs/*')] },
          { Effect: 'Allow', Action: 'iot:Subscribe', Resource: [arn('topicfilter/fleet/#'), arn('topicfilter/$aws/things/${iot:ClientId}/*')] },
          { Effect: 'Deny', Action: 'iot:Receive', Resource: arn('topic/fleet/secret') },
          { Effect: 'Deny', Action: 'iot:Subscribe', Resource: arn('topicfilter/$aws/things/${iot:ClientId}/shadow/*') },
        ),
      }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'pol-fleet-policy', target: groupArn('pol-fleet') }));
      await thing('pol-f1', 'pol-fleet');
      await thing('pol-f2', 'pol-fleet');
      const f1 = await connect('pol-f1');
      const f2 = await connect('pol-f2');
      // Its own shadow is no longer allowed (Deny), its jobs are; fleet/# literally, fleet/+ not.
      assert.deepEqual(await f2.subscribe('jobs/notify', 'shadow/update/delta'), [1, 128]);
      assert.deepEqual(await subscribeRaw(f2, 'fleet/+', 'fleet/#'), [128, 1]);
      assert.ok((await f2.request('jobs/get')).accepted);
      // Receive: fleet/secret is published (Publish allows it) but never delivered (Deny on Receive).
      await f1.client.publishAsync('fleet/secret', 'hidden', { qos: 1 });
      await f1.client.publishAsync('fleet/open', 'visible', { qos: 1 });
      const got = await f2.next((m) => m.topic === 'fleet/open');
      assert.equal(got.payload, 'visible');
      assert.deepEqual(f2.received.filter((m) => m.topic.startsWith('fleet/')), []);
    });

    it('re-binds live connections when policies change: a new default version, a detach, leaving the group', async () => {
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'pol-live' }));
      await t.iot.send(new CreatePolicyCommand({
        policyName: 'pol-live-policy',
        policyDocument: policy({ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' }),
      }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'pol-live-policy', target: groupArn('pol-live') }));
      await thing('pol-l1', 'pol-live');
      await thing('pol-l2', 'pol-live');
      const l1 = await connect('pol-l1');
      assert.deepEqual(await subscribeRaw(l1, 'anything/#'), [1]);
      // A new default version that denies connecting closes the live connection; a new one is refused.
      const gone = closed(l1);
      await t.iot.send(new CreatePolicyVersionCommand({
        policyName: 'pol-live-policy',
        setAsDefault: true,
        policyDocument: policy({ Effect: 'Allow', Action: ['iot:Connect', 'iot:Subscribe'], Resource: '*' }, { Effect: 'Deny', Action: 'iot:Connect', Resource: arn('client/pol-l1') }),
      }));
      await gone;
      await refusedAtConnect(t.server.mqttUrl!, 'pol-l1');
      // pol-l2 still connects under the group's policy; detached, it is back to the default policy.
      const l2 = await connect('pol-l2');
      assert.deepEqual(await subscribeRaw(l2, 'anything/#'), [1]);
      await t.iot.send(new DetachPolicyCommand({ policyName: 'pol-live-policy', target: groupArn('pol-live') }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'pol-live-policy', target: groupArn('pol-live') }));
      // Out of the group: the default policy again (own topics only), still connected.
      await t.iot.send(new RemoveThingFromThingGroupCommand({ thingName: 'pol-l2', thingGroupName: 'pol-live' }));
      let codes: number[] = [];
      for (let i = 0; i < 50 && codes[0] !== 128; i++) codes = await subscribeRaw(l2, 'other/#');
      assert.deepEqual(codes, [128]);
      assert.deepEqual(await l2.subscribe('jobs/notify'), [1]);
    });
  });

  describe(`MQTT with --default-device-policy aws (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend, {}, { FLEETJOBS_DEFAULT_DEVICE_POLICY: 'aws' });
    });
    after(async () => t?.close());

    it('a thing with no policy gets nothing, not even a connection; an attached policy lets it in', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'aws-dev' }));
      await refusedAtConnect(t.server.mqttUrl!, 'aws-dev');
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'aws-group' }));
      await t.iot.send(new AddThingToThingGroupCommand({ thingName: 'aws-dev', thingGroupName: 'aws-group' }));
      await t.iot.send(new CreatePolicyCommand({ policyName: 'aws-connect', policyDocument: policy({ Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client/${iot:ClientId}') }) }));
      await t.iot.send(new AttachPolicyCommand({ policyName: 'aws-connect', target: groupArn('aws-group') }));
      const d = await TestDevice.connect(t.server.mqttUrl!, 'aws-dev');
      // Connect only: not even its own topics.
      assert.deepEqual(await d.subscribe('jobs/notify'), [128]);
      await d.close();
    });
  });
}
