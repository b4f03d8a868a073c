import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, DescribeJobCommand, DescribeThingGroupCommand, ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { groupArn } from '../support/jobs.js';
import { ServeProcess } from '../support/serve-process.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

/**
 * `fleetjobs simulate`: registers its devices through the control plane, connects them over MQTT,
 * runs every job they are sent, and prints a summary that agrees with the job's counters; it
 * stops on Ctrl-C or once idle, and exits 0 either way.
 */
for (const backend of await testBackends()) {
  describe(`fleetjobs simulate (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const sims: ServeProcess[] = [];
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => {
      for (const s of sims) s.kill();
      await t?.close();
    });

    function simulate(args: string[]): ServeProcess {
      const s = new ServeProcess(['simulate', '--endpoint', t.url, '--broker', t.server.mqttUrl!, '--json', ...args], {
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      });
      sims.push(s);
      return s;
    }
    const summaryOf = (s: ServeProcess) => JSON.parse(s.lines[s.lines.length - 1]) as Record<string, number | string>;

    async function completed(jobId: string): Promise<Record<string, number>> {
      // The devices work in another process: look until the job is done.
      for (;;) {
        const { job } = await t.iot.send(new DescribeJobCommand({ jobId }));
        if (job?.status === 'COMPLETED') return job.jobProcessDetails as Record<string, number>;
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('registers a group of devices that run a job to its end, and stops on Ctrl-C with a summary', async () => {
      const sim = simulate(['--devices', '40', '--group', 'sim-a', '--work-ms', '20', '--fail-rate', '0.25', '--reject-rate', '0.1']);
      await sim.waitForLine((l) => l === `fleetjobs simulate: 40 of 40 devices connected to ${t.server.mqttUrl}`);
      const members = await t.iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'sim-a', maxResults: 100 }));
      assert.equal(members.things?.length, 40);
      assert.ok(members.things!.includes('sim-a-000001') && members.things!.includes('sim-a-000040'));

      await t.iot.send(new CreateJobCommand({ jobId: 'sim-job', targets: [groupArn('sim-a')], document: '{}' }));
      const counters = await completed('sim-job');
      sim.child.kill('SIGINT');
      assert.deepEqual(await sim.exited, { code: 0, signal: null });
      const s = summaryOf(sim);
      assert.equal(s.stoppedBy, 'signal');
      assert.equal(s.connected, 40);
      assert.equal(s.succeeded, counters.numberOfSucceededThings);
      assert.equal(s.failed, counters.numberOfFailedThings);
      assert.equal(s.rejected, counters.numberOfRejectedThings);
      assert.equal(Number(s.succeeded) + Number(s.failed) + Number(s.rejected), 40);
      assert.equal(s.inProgress, 0);
    });

    it('takes the next job after the first, creates a missing group once, and exits when idle', async () => {
      const sim = simulate(['--devices', '10', '--group', 'sim-b', '--work-ms', '0', '--exit-when-idle', '1']);
      await sim.waitForLine((l) => l.startsWith('fleetjobs simulate: 10 of 10 devices connected'));
      await t.iot.send(new CreateJobCommand({ jobId: 'sim-b-1', targets: [groupArn('sim-b')], document: '{}' }));
      await t.iot.send(new CreateJobCommand({ jobId: 'sim-b-2', targets: [groupArn('sim-b')], document: '{}' }));
      assert.equal((await completed('sim-b-1')).numberOfSucceededThings, 10);
      assert.equal((await completed('sim-b-2')).numberOfSucceededThings, 10);
      assert.deepEqual(await sim.exited, { code: 0, signal: null });
      const s = summaryOf(sim);
      assert.equal(s.stoppedBy, 'idle');
      assert.equal(s.succeeded, 20);
      assert.ok((await t.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'sim-b' }))).thingGroupName);
    });

    it('refuses bad flags with a message', async () => {
      const sim = simulate(['--devices', '0', '--group', 'sim-c']);
      assert.equal((await sim.exited).code, 2);
      assert.match(sim.stderr, /--devices takes a whole number of at least 1/);
      const rates = simulate(['--devices', '1', '--group', 'sim-c', '--fail-rate', '1.5']);
      assert.equal((await rates.exited).code, 2);
      assert.match(rates.stderr, /--fail-rate takes a share from 0 to 1/);
    });
  });
}
