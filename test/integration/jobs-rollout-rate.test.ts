import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand as ControlDescribeExecution,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  ListJobsCommand,
  UpdateJobCommand,
} from '@aws-sdk/client-iot';
import { GetPendingJobExecutionsCommand, UpdateJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { groupArn, jobsServerForSuite, seedGroup, seedThing, thingArn } from '../support/jobs.js';
import { assertCountersExact, countedExecutions } from '../support/races.js';
import { expectAwsError, type TestServer } from '../support/server.js';

const MINUTE = 60_000;
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

/** Every execution of a job, by thing name (paged). */
async function released(t: TestServer, jobId: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 250, nextToken }));
    out.push(...(page.executionSummaries ?? []).map((s) => s.thingArn!.split('/').pop()!));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/**
 * jobExecutionsRolloutConfig enforced (jobs.md §4, devices-and-engine.md §5): targets are released
 * at the pace of maximumPerMinute over a sliding minute, the first burst at once, an
 * exponentialRate ramps at the multiples of its threshold, and a target not released yet has no
 * execution anywhere. Hours of rollout run on the virtual clock in milliseconds.
 */
for (const backend of await testBackends()) {
  describe(`IoT Jobs rollout pacing (${backend.name})`, { skip: backend.skip }, () => {
    const suite = jobsServerForSuite(backend);

    it('releases maximumPerMinute at once, then as each minute of the window frees up', async () => {
      const things = names('rate', 25);
      await seedGroup(suite.t, 'rate-fleet', things);
      const t0 = suite.t.clock.now();
      await suite.t.iot.send(new CreateJobCommand({ jobId: 'rate', targets: [groupArn('rate-fleet')], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 10 } }));
      assert.deepEqual(await released(suite.t, 'rate'), things.slice(0, 10));
      await assertCountersExact(suite.t, 'rate');
      const { job } = await suite.t.iot.send(new DescribeJobCommand({ jobId: 'rate' }));
      assert.equal(job?.isConcurrent, true);
      assert.deepEqual(job?.jobProcessDetails?.processingTargets, [groupArn('rate-fleet')]);
      assert.equal((await suite.t.iot.send(new ListJobsCommand({}))).jobs?.find((j) => j.jobId === 'rate')?.isConcurrent, true);

      // A target not released yet has no execution, for every API.
      const waiting = things[20];
      await expectAwsError(suite.t.iot.send(new ControlDescribeExecution({ jobId: 'rate', thingName: waiting })), 'ResourceNotFoundException', { status: 404 });
      const pending = await suite.devices.send(new GetPendingJobExecutionsCommand({ thingName: waiting }));
      assert.deepEqual([pending.queuedJobs, pending.inProgressJobs], [[], []]);
      assert.deepEqual((await suite.t.iot.send(new ListJobExecutionsForThingCommand({ thingName: waiting }))).executionSummaries, []);
      await expectAwsError(suite.devices.send(new UpdateJobExecutionCommand({ thingName: waiting, jobId: 'rate', status: 'IN_PROGRESS' })), 'ResourceNotFoundException');

      await suite.t.advance(MINUTE - 1000);
      assert.equal((await released(suite.t, 'rate')).length, 10, 'nothing more inside the first minute');
      await suite.t.advance(1000);
      assert.deepEqual(await released(suite.t, 'rate'), things.slice(0, 20));
      await suite.t.advance(MINUTE);
      assert.deepEqual(await released(suite.t, 'rate'), things);
      await assertCountersExact(suite.t, 'rate');
      const done = (await suite.t.iot.send(new DescribeJobCommand({ jobId: 'rate' }))).job;
      assert.equal(done?.isConcurrent, false);
      assert.equal(done?.jobProcessDetails?.processingTargets, undefined);
      // An execution is queued when it is released: the third burst, two minutes in.
      const last = await suite.t.iot.send(new ControlDescribeExecution({ jobId: 'rate', thingName: things[24] }));
      assert.equal(last.execution?.queuedAt?.getTime(), t0 + 2 * MINUTE);
      const first = await suite.t.iot.send(new ControlDescribeExecution({ jobId: 'rate', thingName: things[0] }));
      assert.equal(first.execution?.queuedAt?.getTime(), t0);
    });

    it('ramps an exponentialRate at the multiples of its notified-things threshold, up to maximumPerMinute', async () => {
      const things = names('ramp', 40);
      await seedGroup(suite.t, 'ramp-fleet', things);
      await suite.t.iot.send(new CreateJobCommand({
        jobId: 'ramp', targets: [groupArn('ramp-fleet')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 12, exponentialRate: { baseRatePerMinute: 2, incrementFactor: 2, rateIncreaseCriteria: { numberOfNotifiedThings: 4 } } },
      }));
      const seen: number[] = [(await released(suite.t, 'ramp')).length];
      for (let minute = 1; minute <= 5; minute++) {
        await suite.t.advance(MINUTE);
        seen.push((await released(suite.t, 'ramp')).length);
      }
      // Rates 2, 2 (2 notified), 4 (4 → step 1), 8 (8 → step 2), 12 (16 → capped), 12.
      assert.deepEqual(seen, [2, 4, 8, 16, 28, 40]);
      await assertCountersExact(suite.t, 'ramp');
    });

    it('ramps by succeeded things when that is the criterion', async () => {
      const things = names('succ', 12);
      await seedGroup(suite.t, 'succ-fleet', things);
      await suite.t.iot.send(new CreateJobCommand({
        jobId: 'succ', targets: [groupArn('succ-fleet')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 100, exponentialRate: { baseRatePerMinute: 1, incrementFactor: 3, rateIncreaseCriteria: { numberOfSucceededThings: 1 } } },
      }));
      assert.equal((await released(suite.t, 'succ')).length, 1);
      await suite.t.advance(MINUTE);
      assert.equal((await released(suite.t, 'succ')).length, 2, 'no success yet: still one a minute');
      for (const thing of await released(suite.t, 'succ')) await suite.devices.send(new UpdateJobExecutionCommand({ thingName: thing, jobId: 'succ', status: 'SUCCEEDED' }));
      await suite.t.advance(MINUTE);
      // Two succeeded → step 2 → 1 × 3² = 9 a minute.
      assert.equal((await released(suite.t, 'succ')).length, 11);
      await suite.t.advance(MINUTE);
      assert.equal((await released(suite.t, 'succ')).length, 12);
    });

    it('rolls targets out in the order given, and lists those still being rolled out', async () => {
      await seedThing(suite.t, 'order-first');
      const group = names('order-g', 5);
      await seedGroup(suite.t, 'order-fleet', group);
      await seedThing(suite.t, 'order-last');
      await suite.t.iot.send(new CreateJobCommand({
        jobId: 'order', targets: [thingArn('order-first'), groupArn('order-fleet'), thingArn('order-last')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 3 },
      }));
      assert.deepEqual(await released(suite.t, 'order'), ['order-first', ...group.slice(0, 2)].sort());
      assert.deepEqual((await suite.t.iot.send(new DescribeJobCommand({ jobId: 'order' }))).job?.jobProcessDetails?.processingTargets, [groupArn('order-fleet'), thingArn('order-last')]);
      await suite.t.advance(MINUTE);
      assert.equal((await released(suite.t, 'order')).length, 6);
      assert.deepEqual((await suite.t.iot.send(new DescribeJobCommand({ jobId: 'order' }))).job?.jobProcessDetails?.processingTargets, [thingArn('order-last')]);
      await suite.t.advance(MINUTE);
      assert.deepEqual(await released(suite.t, 'order'), ['order-first', ...group, 'order-last'].sort());
      assert.equal((await suite.t.iot.send(new DescribeJobCommand({ jobId: 'order' }))).job?.jobProcessDetails?.processingTargets, undefined);
    });

    it('does not pace things that join a CONTINUOUS job later, and a new maximumPerMinute applies at once', async () => {
      const things = names('cont', 6);
      await seedGroup(suite.t, 'cont-fleet', things.slice(0, 4));
      await suite.t.iot.send(new CreateJobCommand({ jobId: 'cont', targets: [groupArn('cont-fleet')], document: '{}', targetSelection: 'CONTINUOUS', jobExecutionsRolloutConfig: { maximumPerMinute: 1 } }));
      assert.equal((await released(suite.t, 'cont')).length, 1);
      for (const thing of things.slice(4)) {
        await seedThing(suite.t, thing);
        await suite.t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'cont-fleet', thingName: thing }));
      }
      assert.deepEqual((await released(suite.t, 'cont')).sort(), [things[0], things[4], things[5]]);
      await suite.t.iot.send(new UpdateJobCommand({ jobId: 'cont', jobExecutionsRolloutConfig: { maximumPerMinute: 5 } }));
      await suite.t.advance(0);
      assert.equal((await released(suite.t, 'cont')).length, 6, 'the window holds 1 of 5: the other 3 go at once');
      assert.deepEqual(await countedExecutions(suite.t, 'cont'), { queued: 6, inProgress: 0, succeeded: 0, failed: 0, rejected: 0, canceled: 0, removed: 0, timedOut: 0 });
    });
  });
}
