import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
import { GetPendingJobExecutionsCommand, UpdateJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { groupArn, jobsDataClient, seedGroup, seedThing, thingArn } from '../support/jobs.js';
import { assertCountersExact, countedExecutions } from '../support/races.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

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
    let t: TestServer;
    let devices: IoTJobsDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend);
      devices = jobsDataClient(t);
    });
    after(async () => {
      devices?.destroy();
      await t?.close();
    });

    it('releases maximumPerMinute at once, then as each minute of the window frees up', async () => {
      const things = names('rate', 25);
      await seedGroup(t, 'rate-fleet', things);
      const t0 = t.clock.now();
      await t.iot.send(new CreateJobCommand({ jobId: 'rate', targets: [groupArn('rate-fleet')], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 10 } }));
      assert.deepEqual(await released(t, 'rate'), things.slice(0, 10));
      await assertCountersExact(t, 'rate');
      const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'rate' }));
      assert.equal(job?.isConcurrent, true);
      assert.deepEqual(job?.jobProcessDetails?.processingTargets, [groupArn('rate-fleet')]);
      assert.equal((await t.iot.send(new ListJobsCommand({}))).jobs?.find((j) => j.jobId === 'rate')?.isConcurrent, true);

      // A target not released yet has no execution, for every API.
      const waiting = things[20];
      await expectAwsError(t.iot.send(new ControlDescribeExecution({ jobId: 'rate', thingName: waiting })), 'ResourceNotFoundException', { status: 404 });
      const pending = await devices.send(new GetPendingJobExecutionsCommand({ thingName: waiting }));
      assert.deepEqual([pending.queuedJobs, pending.inProgressJobs], [[], []]);
      assert.deepEqual((await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: waiting }))).executionSummaries, []);
      await expectAwsError(devices.send(new UpdateJobExecutionCommand({ thingName: waiting, jobId: 'rate', status: 'IN_PROGRESS' })), 'ResourceNotFoundException');

      await t.advance(MINUTE - 1000);
      assert.equal((await released(t, 'rate')).length, 10, 'nothing more inside the first minute');
      await t.advance(1000);
      assert.deepEqual(await released(t, 'rate'), things.slice(0, 20));
      await t.advance(MINUTE);
      assert.deepEqual(await released(t, 'rate'), things);
      await assertCountersExact(t, 'rate');
      const done = (await t.iot.send(new DescribeJobCommand({ jobId: 'rate' }))).job;
      assert.equal(done?.isConcurrent, false);
      assert.equal(done?.jobProcessDetails?.processingTargets, undefined);
      // An execution is queued when it is released: the third burst, two minutes in.
      const last = await t.iot.send(new ControlDescribeExecution({ jobId: 'rate', thingName: things[24] }));
      assert.equal(last.execution?.queuedAt?.getTime(), t0 + 2 * MINUTE);
      const first = await t.iot.send(new ControlDescribeExecution({ jobId: 'rate', thingName: things[0] }));
      assert.equal(first.execution?.queuedAt?.getTime(), t0);
    });

    it('ramps an exponentialRate at the multiples of its notified-things threshold, up to maximumPerMinute', async () => {
      const things = names('ramp', 40);
      await seedGroup(t, 'ramp-fleet', things);
      await t.iot.send(new CreateJobCommand({
        jobId: 'ramp', targets: [groupArn('ramp-fleet')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 12, exponentialRate: { baseRatePerMinute: 2, incrementFactor: 2, rateIncreaseCriteria: { numberOfNotifiedThings: 4 } } },
      }));
      const seen: number[] = [(await released(t, 'ramp')).length];
      for (let minute = 1; minute <= 5; minute++) {
        await t.advance(MINUTE);
        seen.push((await released(t, 'ramp')).length);
      }
      // Rates 2, 2 (2 notified), 4 (4 → step 1), 8 (8 → step 2), 12 (16 → capped), 12.
      assert.deepEqual(seen, [2, 4, 8, 16, 28, 40]);
      await assertCountersExact(t, 'ramp');
    });

    it('ramps by succeeded things when that is the criterion', async () => {
      const things = names('succ', 12);
      await seedGroup(t, 'succ-fleet', things);
      await t.iot.send(new CreateJobCommand({
        jobId: 'succ', targets: [groupArn('succ-fleet')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 100, exponentialRate: { baseRatePerMinute: 1, incrementFactor: 3, rateIncreaseCriteria: { numberOfSucceededThings: 1 } } },
      }));
      assert.equal((await released(t, 'succ')).length, 1);
      await t.advance(MINUTE);
      assert.equal((await released(t, 'succ')).length, 2, 'no success yet: still one a minute');
      for (const thing of await released(t, 'succ')) await devices.send(new UpdateJobExecutionCommand({ thingName: thing, jobId: 'succ', status: 'SUCCEEDED' }));
      await t.advance(MINUTE);
      // Two succeeded → step 2 → 1 × 3² = 9 a minute.
      assert.equal((await released(t, 'succ')).length, 11);
      await t.advance(MINUTE);
      assert.equal((await released(t, 'succ')).length, 12);
    });

    it('rolls targets out in the order given, and lists those still being rolled out', async () => {
      await seedThing(t, 'order-first');
      const group = names('order-g', 5);
      await seedGroup(t, 'order-fleet', group);
      await seedThing(t, 'order-last');
      await t.iot.send(new CreateJobCommand({
        jobId: 'order', targets: [thingArn('order-first'), groupArn('order-fleet'), thingArn('order-last')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 3 },
      }));
      assert.deepEqual(await released(t, 'order'), ['order-first', ...group.slice(0, 2)].sort());
      assert.deepEqual((await t.iot.send(new DescribeJobCommand({ jobId: 'order' }))).job?.jobProcessDetails?.processingTargets, [groupArn('order-fleet'), thingArn('order-last')]);
      await t.advance(MINUTE);
      assert.equal((await released(t, 'order')).length, 6);
      assert.deepEqual((await t.iot.send(new DescribeJobCommand({ jobId: 'order' }))).job?.jobProcessDetails?.processingTargets, [thingArn('order-last')]);
      await t.advance(MINUTE);
      assert.deepEqual(await released(t, 'order'), ['order-first', ...group, 'order-last'].sort());
      assert.equal((await t.iot.send(new DescribeJobCommand({ jobId: 'order' }))).job?.jobProcessDetails?.processingTargets, undefined);
    });

    it('does not pace things that join a CONTINUOUS job later, and a new maximumPerMinute applies at once', async () => {
      const things = names('cont', 6);
      await seedGroup(t, 'cont-fleet', things.slice(0, 4));
      await t.iot.send(new CreateJobCommand({ jobId: 'cont', targets: [groupArn('cont-fleet')], document: '{}', targetSelection: 'CONTINUOUS', jobExecutionsRolloutConfig: { maximumPerMinute: 1 } }));
      assert.equal((await released(t, 'cont')).length, 1);
      for (const thing of things.slice(4)) {
        await seedThing(t, thing);
        await t.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'cont-fleet', thingName: thing }));
      }
      assert.deepEqual((await released(t, 'cont')).sort(), [things[0], things[4], things[5]]);
      await t.iot.send(new UpdateJobCommand({ jobId: 'cont', jobExecutionsRolloutConfig: { maximumPerMinute: 5 } }));
      await t.advance(0);
      assert.equal((await released(t, 'cont')).length, 6, 'the window holds 1 of 5: the other 3 go at once');
      assert.deepEqual(await countedExecutions(t, 'cont'), { queued: 6, inProgress: 0, succeeded: 0, failed: 0, rejected: 0, canceled: 0, removed: 0, timedOut: 0 });
    });
  });
}
