import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, CreateThingCommand, DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { FleetProcess, FleetStorage } from '../support/fleet-process.js';
import { thingArn } from '../support/jobs.js';
import { mosquittoSkip, PrivateMosquitto } from '../support/mosquitto.js';
import { TestDevice } from '../support/mqtt.js';

const LEASE_SECONDS = 5;

/**
 * Two fleetjobs processes on one PostgreSQL and one Mosquitto (devices-and-engine.md §3): the one
 * holding the subscriber lease serves devices, the other stands by; when the holder is killed,
 * the other serves devices within the lease time. The survivor's clock (test mode) is moved a
 * lease forward instead of waiting for it.
 */
const skip = await mosquittoSkip();
for (const backend of (await testBackends()).filter((b) => b.name === 'postgres')) {
  describe(`external broker on two nodes (${backend.name})`, { skip: backend.skip ?? skip }, () => {
    let storage: FleetStorage;
    let broker: PrivateMosquitto;
    let a: FleetProcess;
    let b: FleetProcess;
    const devices: TestDevice[] = [];
    const thing = `fo-${randomUUID().slice(0, 8)}`;
    before(async () => {
      storage = await FleetStorage.create(backend);
      broker = await PrivateMosquitto.start();
      const args = ['--mqtt-url', broker.url, '--lease-seconds', String(LEASE_SECONDS)];
      // a is up (and holds the lease) before b starts.
      a = await FleetProcess.start(storage, args);
      b = await FleetProcess.start(storage, args);
    });
    after(async () => {
      for (const d of devices) await d.close().catch(() => undefined);
      a?.kill();
      b?.kill();
      await storage?.destroy();
      await broker?.stop();
    });

    it('answers each request once while both run, and from the survivor after the holder dies', async () => {
      await a.iot.send(new CreateThingCommand({ thingName: thing }));
      const d = await TestDevice.connect(broker.url, thing, { clean: true });
      devices.push(d);
      await d.subscribe('jobs/#');
      await b.iot.send(new CreateJobCommand({ jobId: `${thing}-job`, targets: [thingArn(thing)], document: '{}' }));
      await d.next((m) => m.topic === d.topic('jobs/notify-next'));

      for (let i = 0; i < 3; i++) assert.ok((await d.request('jobs/get')).accepted);
      assert.deepEqual(
        d.received.filter((m) => m.topic.endsWith('/accepted') || m.topic.endsWith('/rejected')),
        [],
        'one node answered: no request had two replies',
      );

      a.kill();
      await a.proc.exited;
      await b.clock({ advanceSeconds: LEASE_SECONDS });
      const started = await d.request('jobs/start-next');
      assert.ok(started.accepted, JSON.stringify(started.body));
      assert.equal((started.body.execution as { jobId: string }).jobId, `${thing}-job`);
      const { execution } = await b.iot.send(new DescribeJobExecutionCommand({ jobId: `${thing}-job`, thingName: thing }));
      assert.equal(execution?.status, 'IN_PROGRESS');
    });
  });
}
