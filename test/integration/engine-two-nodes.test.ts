import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, CreateThingGroupCommand, DescribeJobCommand } from '@aws-sdk/client-iot';
import { IoTJobsDataPlaneClient, StartNextPendingJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { FleetProcess, FleetStorage, maxPerMinute } from '../support/fleet-process.js';
import { groupArn } from '../support/jobs.js';
import { REGION, TEST_CREDENTIALS } from '../support/server.js';

const MINUTE = 60_000;
const STARTED = 200;

/**
 * Issue 10, item 7: two fleetjobs processes on one PostgreSQL progress each job exactly once:
 * together they never exceed the rate, every thing is released once, each timeout fires once; and
 * when one dies the other carries on within the lease time. Both run in test mode with their
 * clocks set to the same moment and advanced in step.
 */
for (const backend of (await testBackends()).filter((b) => b.name === 'postgres')) {
  describe(`rollout engine on two nodes (${backend.name})`, { skip: backend.skip }, () => {
    let storage: FleetStorage;
    let a: FleetProcess;
    let b: FleetProcess;
    before(async () => {
      storage = await FleetStorage.create(backend);
      a = await FleetProcess.start(storage);
      b = await FleetProcess.start(storage);
    });
    after(async () => {
      a?.kill();
      b?.kill();
      await storage?.destroy();
    });

    /** Advances both nodes' clocks by the same amount, at the same time. */
    const both = (seconds: number) => Promise.all([a.clock({ advanceSeconds: seconds }), b.clock({ advanceSeconds: seconds })]);

    it('releases each target once, within the rate, and times each execution out once', async () => {
      const t0 = new Date(Math.floor(Date.now() / MINUTE) * MINUTE).toISOString();
      await a.clock({ set: t0 });
      await b.clock({ set: t0 });
      await a.iot.send(new CreateThingGroupCommand({ thingGroupName: 'pair-fleet' }));
      await storage.seedThings('pair-fleet', 'pair', 3000, Date.parse(t0));
      await a.iot.send(new CreateJobCommand({
        jobId: 'pair', targets: [groupArn('pair-fleet')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 1000 }, timeoutConfig: { inProgressTimeoutInMinutes: 1 },
      }));
      const devices = new IoTJobsDataPlaneClient({ endpoint: b.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      try {
        for (let i = 1; i <= STARTED; i++) await devices.send(new StartNextPendingJobExecutionCommand({ thingName: `pair-${String(i).padStart(6, '0')}` }));
      } finally {
        devices.destroy();
      }
      for (let minute = 0; minute < 4; minute++) await both(60);

      const executions = await a.executions('pair');
      assert.equal(executions.length, 3000);
      assert.equal(new Set(executions.map((e) => e.thing)).size, 3000, 'no thing released twice');
      assert.ok(maxPerMinute(executions.map((e) => e.queuedAt)) <= 1000, `at most ${maxPerMinute(executions.map((e) => e.queuedAt))} in a minute`);
      const { job } = await b.iot.send(new DescribeJobCommand({ jobId: 'pair' }));
      const d = job!.jobProcessDetails!;
      assert.equal(d.numberOfTimedOutThings, STARTED, 'each started execution timed out, once');
      assert.equal(d.numberOfQueuedThings, 3000 - STARTED);
      assert.equal(executions.filter((e) => e.status === 'TIMED_OUT').length, STARTED);
    });

    it('carries on alone within the lease time when the other node dies', async () => {
      await a.iot.send(new CreateThingGroupCommand({ thingGroupName: 'orphan-fleet' }));
      const now = Date.parse((await a.clock({ freeze: true })).now);
      await storage.seedThings('orphan-fleet', 'orphan', 2500, now);
      await a.iot.send(new CreateJobCommand({ jobId: 'orphan', targets: [groupArn('orphan-fleet')], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 1000 } }));
      assert.equal((await b.executions('orphan')).length, 1000);
      // A claims the job's next tick and dies in it; B has not moved its clock yet.
      const dying = a.clock({ advanceSeconds: 60 }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 3));
      a.kill();
      await dying;
      // Within a lease (15 s) after the tick was due, B has taken the job over.
      await b.clock({ advanceSeconds: 60 + 15 });
      const released = (await b.executions('orphan')).length;
      assert.equal(released, 2000, 'B released the second minute');
      await b.clock({ advanceSeconds: 60 });
      const all = await b.executions('orphan');
      assert.equal(all.length, 2500);
      assert.equal(new Set(all.map((e) => e.thing)).size, 2500);
      assert.ok(maxPerMinute(all.map((e) => e.queuedAt)) <= 1000);
    });
  });
}
