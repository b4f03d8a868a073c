import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateJobCommand, DescribeJobCommand, DescribeJobExecutionCommand as ControlDescribeExecution, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import {
  DescribeJobExecutionCommand,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { counters, groupArn, jobState, jobsServerForSuite, pickCounters, seedGroup, seedThing, thingArn } from '../support/jobs.js';
import { assertCountersExact } from '../support/races.js';
import { expectAwsError } from '../support/server.js';

const MINUTE = 60_000;

/**
 * Timeouts, retries and abort (jobs.md §3.5–3.6, §5), enforced by the engine and by the terminal
 * transitions themselves, on the virtual clock.
 */
for (const backend of await testBackends()) {
  describe(`IoT Jobs timeouts, retries and abort (${backend.name})`, { skip: backend.skip }, () => {
    const suite = jobsServerForSuite(backend);

    const executionsOf = async (jobId: string) =>
      ((await suite.t.iot.send(new ListJobExecutionsForJobCommand({ jobId }))).executionSummaries ?? []).map((s) => ({
        thing: s.thingArn!.split('/').pop()!, n: s.jobExecutionSummary!.executionNumber, status: s.jobExecutionSummary!.status, retry: s.jobExecutionSummary!.retryAttempt,
      }));

    it('times an execution out at its in-progress deadline, and counts down on the way', async () => {
      await seedThing(suite.t, 'slow-1');
      await suite.t.iot.send(new CreateJobCommand({ jobId: 'slow', targets: [thingArn('slow-1')], document: '{}', timeoutConfig: { inProgressTimeoutInMinutes: 2 } }));
      await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'slow-1' }));
      let e = (await suite.devices.send(new DescribeJobExecutionCommand({ thingName: 'slow-1', jobId: 'slow' }))).execution!;
      assert.equal(e.approximateSecondsBeforeTimedOut, 120);
      await suite.t.advance(MINUTE);
      e = (await suite.devices.send(new DescribeJobExecutionCommand({ thingName: 'slow-1', jobId: 'slow' }))).execution!;
      assert.equal(e.status, 'IN_PROGRESS');
      assert.equal(e.approximateSecondsBeforeTimedOut, 60);
      await suite.t.advance(MINUTE);
      const timedOut = (await suite.t.iot.send(new ControlDescribeExecution({ jobId: 'slow', thingName: 'slow-1' }))).execution!;
      assert.equal(timedOut.status, 'TIMED_OUT');
      assert.equal(timedOut.versionNumber, 3);
      assert.equal(timedOut.approximateSecondsBeforeTimedOut, undefined);
      assert.equal(timedOut.lastUpdatedAt?.getTime(), suite.t.clock.now(), 'timed out at its deadline');
      await expectAwsError(suite.devices.send(new UpdateJobExecutionCommand({ thingName: 'slow-1', jobId: 'slow', status: 'SUCCEEDED' })), 'InvalidStateTransitionException');
      assert.deepEqual(pickCounters(await jobState(suite.t, 'slow')), counters({ timedOut: 1 }));
      assert.equal((await jobState(suite.t, 'slow')).status, 'COMPLETED');
    });

    it('lets a step timeout cut an execution short, and -1 clears it', async () => {
      await seedThing(suite.t, 'step-1');
      await seedThing(suite.t, 'step-2');
      await suite.t.iot.send(new CreateJobCommand({ jobId: 'steps', targets: [thingArn('step-1'), thingArn('step-2')], document: '{}', timeoutConfig: { inProgressTimeoutInMinutes: 10 } }));
      await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'step-1', stepTimeoutInMinutes: 1 }));
      await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'step-2', stepTimeoutInMinutes: 1 }));
      await suite.devices.send(new UpdateJobExecutionCommand({ thingName: 'step-2', jobId: 'steps', status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 }));
      await suite.t.advance(MINUTE + 1000);
      assert.equal((await suite.t.iot.send(new ControlDescribeExecution({ jobId: 'steps', thingName: 'step-1' }))).execution?.status, 'TIMED_OUT');
      const other = (await suite.t.iot.send(new ControlDescribeExecution({ jobId: 'steps', thingName: 'step-2' }))).execution!;
      assert.equal(other.status, 'IN_PROGRESS');
      assert.equal(other.approximateSecondsBeforeTimedOut, 10 * 60 - 61);
      await suite.t.advance(9 * MINUTE);
      assert.equal((await suite.t.iot.send(new ControlDescribeExecution({ jobId: 'steps', thingName: 'step-2' }))).execution?.status, 'TIMED_OUT');
      await assertCountersExact(suite.t, 'steps');
    });

    it('retries FAILED executions as new executions, up to numberOfRetries; REJECTED never', async () => {
      await seedThing(suite.t, 'flaky-1');
      await seedThing(suite.t, 'flaky-2');
      await suite.t.iot.send(new CreateJobCommand({
        jobId: 'flaky', targets: [thingArn('flaky-1'), thingArn('flaky-2')], document: '{}',
        jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 2 }] },
      }));
      for (let attempt = 1; attempt <= 3; attempt++) {
        await suite.devices.send(new UpdateJobExecutionCommand({ thingName: 'flaky-1', jobId: 'flaky', status: 'FAILED' }));
      }
      await suite.devices.send(new UpdateJobExecutionCommand({ thingName: 'flaky-2', jobId: 'flaky', status: 'REJECTED' }));
      assert.deepEqual(await executionsOf('flaky'), [
        { thing: 'flaky-1', n: 1, status: 'FAILED', retry: 0 },
        { thing: 'flaky-1', n: 2, status: 'FAILED', retry: 1 },
        { thing: 'flaky-1', n: 3, status: 'FAILED', retry: 2 },
        { thing: 'flaky-2', n: 1, status: 'REJECTED', retry: 0 },
      ]);
      // Counters count executions, not things (jobs.md §2.7).
      assert.deepEqual(pickCounters(await jobState(suite.t, 'flaky')), counters({ failed: 3, rejected: 1 }));
      assert.equal((await jobState(suite.t, 'flaky')).status, 'COMPLETED');
    });

    it('retries TIMED_OUT executions under an ALL criterion', async () => {
      await seedThing(suite.t, 'hang-1');
      await suite.t.iot.send(new CreateJobCommand({
        jobId: 'hang', targets: [thingArn('hang-1')], document: '{}', timeoutConfig: { inProgressTimeoutInMinutes: 1 },
        jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 1 }] },
      }));
      await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'hang-1' }));
      await suite.t.advance(MINUTE);
      assert.deepEqual(await executionsOf('hang'), [
        { thing: 'hang-1', n: 1, status: 'TIMED_OUT', retry: 0 },
        { thing: 'hang-1', n: 2, status: 'QUEUED', retry: 1 },
      ]);
      // The retry is what the device is offered next.
      const next = await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'hang-1' }));
      assert.equal(next.execution?.executionNumber, 2);
      await suite.devices.send(new UpdateJobExecutionCommand({ thingName: 'hang-1', jobId: 'hang', status: 'SUCCEEDED', executionNumber: 2 }));
      assert.deepEqual(pickCounters(await jobState(suite.t, 'hang')), counters({ timedOut: 1, succeeded: 1 }));
      assert.equal((await jobState(suite.t, 'hang')).status, 'COMPLETED');
    });

    it('aborts once enough executions ended and the failure share reaches the threshold', async () => {
      const things = ['ab-0', 'ab-1', 'ab-2', 'ab-3', 'ab-4', 'ab-5', 'ab-6', 'ab-7'];
      await seedGroup(suite.t, 'abort-fleet', things);
      await suite.t.iot.send(new CreateJobCommand({
        jobId: 'abort', targets: [groupArn('abort-fleet')], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 6 },
        abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 50, minNumberOfExecutedThings: 2 }] },
        jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] },
      }));
      await suite.devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'ab-5' }));
      await suite.devices.send(new UpdateJobExecutionCommand({ thingName: 'ab-0', jobId: 'abort', status: 'FAILED' }));
      // One ended: under the minimum, nothing is judged yet; its retry is queued.
      assert.equal((await jobState(suite.t, 'abort')).status, 'IN_PROGRESS');
      await suite.devices.send(new UpdateJobExecutionCommand({ thingName: 'ab-1', jobId: 'abort', status: 'SUCCEEDED' }));
      // Two ended, one FAILED: 50% ≥ 50%.
      await suite.t.server.engine.step();
      const { job } = await suite.t.iot.send(new DescribeJobCommand({ jobId: 'abort' }));
      assert.equal(job?.status, 'CANCELED');
      assert.equal(job?.reasonCode, 'ABORT_CRITERIA_MET');
      assert.match(job?.comment ?? '', /1 of 2 completed executions are FAILED \(50%\)/);
      assert.equal(job?.forceCanceled, false);
      assert.equal(job?.isConcurrent, false);
      const after = await executionsOf('abort');
      // QUEUED executions and the queued retry are cancelled; the IN_PROGRESS one runs on; the
      // last two targets were never released and have no execution.
      assert.deepEqual(after.map((e) => `${e.thing}#${e.n}:${e.status}`), [
        'ab-0#1:FAILED', 'ab-0#2:CANCELED', 'ab-1#1:SUCCEEDED', 'ab-2#1:CANCELED', 'ab-3#1:CANCELED', 'ab-4#1:CANCELED', 'ab-5#1:IN_PROGRESS',
      ]);
      await suite.t.advance(5 * MINUTE);
      assert.equal((await executionsOf('abort')).length, 7, 'the rollout stopped');
      await suite.devices.send(new UpdateJobExecutionCommand({ thingName: 'ab-5', jobId: 'abort', status: 'SUCCEEDED' }));
      await assertCountersExact(suite.t, 'abort');
      assert.equal((await jobState(suite.t, 'abort')).status, 'CANCELED');
    });
  });
}
