import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateJobCommand, DescribeJobCommand, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import {
  GetPendingJobExecutionsCommand,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { counters, groupArn, jobState, jobsServerForSuite, pickCounters, seedGroup } from '../support/jobs.js';
import { assertCountersExact } from '../support/races.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16);
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);

/**
 * schedulingConfig enforced (jobs.md §2.1, §6): SCHEDULED until startTime, IN_PROGRESS only inside
 * maintenance windows (and releasing only then), endBehavior at endTime, and a CONTINUOUS job with
 * an endTime completing once it has passed and nothing is pending. All on the virtual clock.
 */
for (const backend of await testBackends()) {
  describe(`IoT Jobs scheduling, enforced (${backend.name})`, { skip: backend.skip }, () => {
    const suite = jobsServerForSuite(backend);

    const executions = async (jobId: string) => (await suite.t.iot.send(new ListJobExecutionsForJobCommand({ jobId }))).executionSummaries ?? [];
    const pendingOf = async (thingName: string) => {
      const p = await suite.devices.send(new GetPendingJobExecutionsCommand({ thingName }));
      return [...(p.inProgressJobs ?? []), ...(p.queuedJobs ?? [])].map((j) => j.jobId);
    };

    it('stays SCHEDULED until its startTime, then rolls out', async () => {
      await seedGroup(suite.t, 'start-fleet', names('start', 3));
      const startMs = Math.ceil((suite.t.clock.now() + 45 * MINUTE) / MINUTE) * MINUTE;
      await suite.t.iot.send(new CreateJobCommand({ jobId: 'starts-later', targets: [groupArn('start-fleet')], document: '{}', schedulingConfig: { startTime: iso(startMs) } }));
      assert.equal((await jobState(suite.t, 'starts-later')).status, 'SCHEDULED');
      assert.equal((await executions('starts-later')).length, 0);
      await suite.t.advance(startMs - suite.t.clock.now() - 1000);
      assert.equal((await jobState(suite.t, 'starts-later')).status, 'SCHEDULED');
      await suite.t.advance(1000);
      assert.equal((await jobState(suite.t, 'starts-later')).status, 'IN_PROGRESS');
      assert.equal((await executions('starts-later')).length, 3);
      assert.deepEqual(await pendingOf('start-00'), ['starts-later']);
    });

    it('releases only inside maintenance windows, SCHEDULED between them with its QUEUED executions out of view', async () => {
      const things = names('win', 5);
      await seedGroup(suite.t, 'window-fleet', things);
      const open = new Date(Math.ceil((suite.t.clock.now() + 40 * MINUTE) / MINUTE) * MINUTE);
      const cron = `cron(${open.getUTCMinutes()} ${open.getUTCHours()} * * ? *)`;
      await suite.t.iot.send(new CreateJobCommand({
        jobId: 'nightly', targets: [groupArn('window-fleet')], document: '{}', targetSelection: 'CONTINUOUS',
        jobExecutionsRolloutConfig: { maximumPerMinute: 2 },
        schedulingConfig: { maintenanceWindows: [{ startTime: cron, durationInMinutes: 2 }] },
      }));
      const { job } = await suite.t.iot.send(new DescribeJobCommand({ jobId: 'nightly' }));
      assert.equal(job?.status, 'SCHEDULED');
      assert.equal(job?.scheduledJobRollouts?.[0]?.startTime, iso(open.getTime()));
      assert.equal((await executions('nightly')).length, 0);

      await suite.t.advance(open.getTime() - suite.t.clock.now());
      assert.equal((await jobState(suite.t, 'nightly')).status, 'IN_PROGRESS');
      assert.equal((await executions('nightly')).length, 2);
      await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: things[0] }));
      await suite.t.advance(MINUTE);
      assert.equal((await executions('nightly')).length, 4);
      await suite.t.advance(MINUTE);
      // The window closed: no more releases, and its QUEUED executions are out of devices' view; the
      // one a device started stays in view.
      assert.equal((await jobState(suite.t, 'nightly')).status, 'SCHEDULED');
      assert.equal((await executions('nightly')).length, 4);
      assert.deepEqual(await pendingOf(things[1]), []);
      assert.deepEqual(await pendingOf(things[0]), ['nightly']);
      assert.deepEqual((await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: things[2] }))).execution, undefined);
      const { job: between } = await suite.t.iot.send(new DescribeJobCommand({ jobId: 'nightly' }));
      assert.equal(between?.scheduledJobRollouts?.[0]?.startTime, iso(open.getTime() + 24 * HOUR));

      await suite.t.advance(24 * HOUR - 2 * MINUTE);
      assert.equal((await jobState(suite.t, 'nightly')).status, 'IN_PROGRESS');
      assert.equal((await executions('nightly')).length, 5);
      assert.deepEqual(await pendingOf(things[1]), ['nightly']);
      await assertCountersExact(suite.t, 'nightly');
    });

    it('applies endBehavior at endTime: STOP_ROLLOUT, CANCEL and FORCE_CANCEL', async () => {
      const endMs = Math.ceil((suite.t.clock.now() + 31 * MINUTE) / MINUTE) * MINUTE;
      for (const behavior of ['STOP_ROLLOUT', 'CANCEL', 'FORCE_CANCEL'] as const) {
        const things = names(`end-${behavior}`, 40);
        await seedGroup(suite.t, `end-${behavior}`, things);
        await suite.t.iot.send(new CreateJobCommand({
          jobId: `end-${behavior}`, targets: [groupArn(`end-${behavior}`)], document: '{}',
          jobExecutionsRolloutConfig: { maximumPerMinute: 1 }, schedulingConfig: { endTime: iso(endMs), endBehavior: behavior },
        }));
        await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: things[0] }));
      }
      await suite.t.advance(endMs - suite.t.clock.now() - 1000);
      const before = (await executions('end-STOP_ROLLOUT')).length;
      assert.ok(before >= 31 && before <= 32, String(before));
      await suite.t.advance(10 * MINUTE);

      const stopped = await jobState(suite.t, 'end-STOP_ROLLOUT');
      assert.equal(stopped.status, 'IN_PROGRESS');
      assert.equal((await executions('end-STOP_ROLLOUT')).length, before, 'no release after endTime');
      assert.deepEqual(pickCounters(stopped), counters({ inProgress: 1, queued: before - 1 }));

      const cancelled = await jobState(suite.t, 'end-CANCEL');
      assert.equal(cancelled.status, 'CANCELED');
      assert.deepEqual(pickCounters(cancelled), counters({ inProgress: 1, canceled: before - 1 }));
      const forced = (await suite.t.iot.send(new DescribeJobCommand({ jobId: 'end-FORCE_CANCEL' }))).job!;
      assert.equal(forced.status, 'CANCELED');
      assert.equal(forced.forceCanceled, true);
      assert.equal(forced.jobProcessDetails?.numberOfCanceledThings, before);

      // The stopped job completes once what it released has finished.
      for (const s of await executions('end-STOP_ROLLOUT')) {
        await suite.devices.send(new UpdateJobExecutionCommand({ thingName: s.thingArn!.split('/').pop()!, jobId: 'end-STOP_ROLLOUT', status: 'SUCCEEDED' }));
      }
      assert.equal((await jobState(suite.t, 'end-STOP_ROLLOUT')).status, 'COMPLETED');
    });

    it('completes a CONTINUOUS job once its endTime has passed and nothing is pending', async () => {
      const things = names('cend', 2);
      await seedGroup(suite.t, 'cend-fleet', things);
      const endMs = Math.ceil((suite.t.clock.now() + 35 * MINUTE) / MINUTE) * MINUTE;
      await suite.t.iot.send(new CreateJobCommand({ jobId: 'cend', targets: [groupArn('cend-fleet')], document: '{}', targetSelection: 'CONTINUOUS', schedulingConfig: { endTime: iso(endMs), endBehavior: 'STOP_ROLLOUT' } }));
      for (const thing of things) await suite.devices.send(new UpdateJobExecutionCommand({ thingName: thing, jobId: 'cend', status: 'SUCCEEDED' }));
      assert.equal((await jobState(suite.t, 'cend')).status, 'IN_PROGRESS', 'a CONTINUOUS job runs on before its endTime');
      await suite.t.advance(endMs - suite.t.clock.now());
      const done = await jobState(suite.t, 'cend');
      assert.equal(done.status, 'COMPLETED');
      assert.equal(done.completedAt?.getTime(), endMs);
    });
  });
}
