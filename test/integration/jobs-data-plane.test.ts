import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, DescribeJobExecutionCommand as ControlDescribeExecution } from '@aws-sdk/client-iot';
import {
  DescribeJobExecutionCommand,
  GetPendingJobExecutionsCommand,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
  type IoTJobsDataPlaneClient,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { counters, jobsDataClient, jobState, pickCounters, seedThing, thingArn } from '../support/jobs.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

const seconds = (t: TestServer) => Math.floor(t.clock.now() / 1000);

for (const backend of await testBackends()) {
  describe(`the HTTPS jobs data plane and the execution state machine (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let device: IoTJobsDataPlaneClient;
    const createJob = (jobId: string, things: string[], extra: Record<string, unknown> = {}) =>
      t.iot.send(new CreateJobCommand({ jobId, targets: things.map(thingArn), document: JSON.stringify({ op: jobId }), ...extra }));

    before(async () => {
      t = await startTestServer(backend);
      device = jobsDataClient(t);
      for (const thing of ['d1', 'd2', 'd3', 'd4', 'd5', 'd6']) await seedThing(t, thing);
    });
    after(async () => {
      device?.destroy();
      await t?.close();
    });

    it('answers an idle thing with empty lists and no execution', async () => {
      const pending = await device.send(new GetPendingJobExecutionsCommand({ thingName: 'd1' }));
      assert.deepEqual(pending.inProgressJobs, []);
      assert.deepEqual(pending.queuedJobs, []);
      const next = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd1' }));
      assert.equal(next.execution, undefined);
      const peek = await device.send(new DescribeJobExecutionCommand({ thingName: 'd1', jobId: '$next' }));
      assert.equal(peek.execution, undefined);
    });

    it('orders the pending list IN_PROGRESS first, then the oldest QUEUED, and peeks with $next', async () => {
      await createJob('first', ['d1']);
      t.clock.advance(1000);
      await createJob('second', ['d1']);
      t.clock.advance(1000);
      await createJob('third', ['d1']);

      // $next arrives percent-encoded (%24next) from the SDK; it peeks without starting anything.
      const peek = await device.send(new DescribeJobExecutionCommand({ thingName: 'd1', jobId: '$next' }));
      assert.equal(peek.execution?.jobId, 'first');
      assert.equal(peek.execution?.status, 'QUEUED');
      assert.equal(peek.execution?.jobDocument, '{"op":"first"}', 'includeJobDocument defaults to true');
      assert.equal(peek.execution?.thingName, 'd1');

      // A device may start a job that is not first; it then leads the list.
      await device.send(new UpdateJobExecutionCommand({ thingName: 'd1', jobId: 'second', status: 'IN_PROGRESS' }));
      const pending = await device.send(new GetPendingJobExecutionsCommand({ thingName: 'd1' }));
      assert.deepEqual(pending.inProgressJobs?.map((j) => j.jobId), ['second']);
      assert.deepEqual(pending.queuedJobs?.map((j) => j.jobId), ['first', 'third']);
      assert.equal(pending.inProgressJobs![0].versionNumber, 2);
      assert.equal(pending.inProgressJobs![0].startedAt, seconds(t));

      const next = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd1', statusDetails: { ignored: 'yes' } }));
      assert.equal(next.execution?.jobId, 'second');
      assert.equal(next.execution?.versionNumber, 2, 'start-next on an IN_PROGRESS execution changes nothing');
      assert.equal(next.execution?.statusDetails, undefined);

      await device.send(new UpdateJobExecutionCommand({ thingName: 'd1', jobId: 'second', status: 'SUCCEEDED' }));
      const after1 = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd1' }));
      assert.equal(after1.execution?.jobId, 'first');
      assert.equal(after1.execution?.status, 'IN_PROGRESS');
    });

    it('walks an execution through progress updates, statusDetails replacement and versions', async () => {
      await createJob('walk', ['d2']);
      const started = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd2', statusDetails: { phase: 'download' } }));
      assert.equal(started.execution?.versionNumber, 2);
      t.clock.advance(5000);
      const progress = await device.send(new UpdateJobExecutionCommand({
        thingName: 'd2', jobId: 'walk', status: 'IN_PROGRESS', statusDetails: { phase: 'install', pct: '50' }, expectedVersion: 2,
        includeJobExecutionState: true, includeJobDocument: true,
      }));
      assert.deepEqual(progress.executionState, { status: 'IN_PROGRESS', statusDetails: { phase: 'install', pct: '50' }, versionNumber: 3 });
      assert.equal(progress.jobDocument, '{"op":"walk"}');

      const quiet = await device.send(new UpdateJobExecutionCommand({ thingName: 'd2', jobId: 'walk', status: 'IN_PROGRESS' }));
      assert.equal(quiet.executionState, undefined, 'without the include flags the answer is empty');
      assert.equal(quiet.jobDocument, undefined);

      const described = await device.send(new DescribeJobExecutionCommand({ thingName: 'd2', jobId: 'walk' }));
      assert.equal(described.execution?.versionNumber, 4);
      assert.deepEqual(described.execution?.statusDetails, { phase: 'install', pct: '50' }, 'not given → unchanged');
      assert.equal(described.execution?.lastUpdatedAt, seconds(t));
      assert.equal(described.execution?.startedAt, seconds(t) - 5);

      // Version mismatch: 409 InvalidStateTransitionException carrying the current executionState.
      const mismatch = await expectAwsError(
        device.send(new UpdateJobExecutionCommand({ thingName: 'd2', jobId: 'walk', status: 'SUCCEEDED', expectedVersion: 2 })),
        'InvalidStateTransitionException', { status: 409, message: 'Expected version 2 but found version 4' },
      );
      assert.equal(mismatch.$metadata?.httpStatusCode, 409);
      assert.equal((await jobState(t, 'walk')).inProgress, 1, 'a rejected update changes nothing');

      const done = await device.send(new UpdateJobExecutionCommand({ thingName: 'd2', jobId: 'walk', status: 'FAILED', expectedVersion: 4, includeJobExecutionState: true }));
      assert.equal(done.executionState?.status, 'FAILED');
      assert.equal(done.executionState?.versionNumber, 5);
      const s = await jobState(t, 'walk');
      assert.deepEqual(pickCounters(s), counters({ failed: 1 }));
      assert.equal(s.status, 'COMPLETED');

      // Terminal: any further update → 409.
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'd2', jobId: 'walk', status: 'SUCCEEDED' })), 'InvalidStateTransitionException', { status: 409 });
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'd2', jobId: 'walk', status: 'IN_PROGRESS' })), 'InvalidStateTransitionException', { status: 409 });
    });

    it('refuses service-only statuses from a device', async () => {
      await createJob('illegal', ['d3']);
      for (const status of ['CANCELED', 'TIMED_OUT', 'REMOVED', 'QUEUED'] as const) {
        await expectAwsError(
          device.send(new UpdateJobExecutionCommand({ thingName: 'd3', jobId: 'illegal', status })),
          'InvalidStateTransitionException', { status: 409, message: `The status of job execution cannot be changed to be ${status}` },
        );
      }
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'd3', jobId: 'illegal', status: 'BOGUS' as never })), 'InvalidRequestException', { status: 400 });
      // QUEUED → REJECTED directly is legal, and sets startedAt (§14 #6).
      const rejected = await device.send(new UpdateJobExecutionCommand({ thingName: 'd3', jobId: 'illegal', status: 'REJECTED', includeJobExecutionState: true }));
      assert.deepEqual(rejected.executionState, { status: 'REJECTED', versionNumber: 2 });
      const control = await t.iot.send(new ControlDescribeExecution({ thingName: 'd3', jobId: 'illegal' }));
      assert.equal(control.execution?.status, 'REJECTED');
      assert.ok(control.execution?.startedAt instanceof Date);
      assert.deepEqual(pickCounters(await jobState(t, 'illegal')), counters({ rejected: 1 }));
    });

    it('answers 404 for an unknown job, thing or executionNumber, and 400 for bad input', async () => {
      await createJob('known', ['d4']);
      await expectAwsError(device.send(new DescribeJobExecutionCommand({ thingName: 'd4', jobId: 'nope' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(device.send(new DescribeJobExecutionCommand({ thingName: 'ghost', jobId: 'known' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(device.send(new DescribeJobExecutionCommand({ thingName: 'd4', jobId: 'known', executionNumber: 7 })), 'ResourceNotFoundException', { status: 404 });
      const one = await device.send(new DescribeJobExecutionCommand({ thingName: 'd4', jobId: 'known', executionNumber: 1, includeJobDocument: false }));
      assert.equal(one.execution?.executionNumber, 1);
      assert.equal(one.execution?.jobDocument, undefined);
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'd4', jobId: 'nope', status: 'SUCCEEDED' })), 'ResourceNotFoundException', { status: 404, message: 'Job nope cannot be found.' });
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'ghost', jobId: 'known', status: 'SUCCEEDED' })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'd4', jobId: 'known', status: 'SUCCEEDED', executionNumber: 3 })), 'ResourceNotFoundException', { status: 404 });
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'd4', jobId: 'known', status: 'IN_PROGRESS', statusDetails: { 'bad key!': 'x' } })), 'InvalidRequestException', { status: 400, message: 'statusDetails' });
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'd4', jobId: 'known', status: 'IN_PROGRESS', statusDetails: { k: 'line\nbreak' } })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(device.send(new UpdateJobExecutionCommand({ thingName: 'd4', jobId: 'known', status: 'IN_PROGRESS', stepTimeoutInMinutes: 0 })), 'InvalidRequestException', { status: 400 });
      await expectAwsError(device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd4', stepTimeoutInMinutes: -1 })), 'InvalidRequestException', { status: 400 });
      assert.deepEqual(pickCounters(await jobState(t, 'known')), counters({ queued: 1 }));
    });

    it('keeps the step and in-progress deadlines and reports the seconds left', async () => {
      await createJob('timed', ['d5'], { timeoutConfig: { inProgressTimeoutInMinutes: 10 } });
      const started = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'd5', stepTimeoutInMinutes: 3 }));
      assert.equal(started.execution?.approximateSecondsBeforeTimedOut, 180);
      t.clock.advance(60_000);
      // A new step timer replaces the old one; it cannot reach past the in-progress bound (9 min left).
      const step = await device.send(new UpdateJobExecutionCommand({ thingName: 'd5', jobId: 'timed', status: 'IN_PROGRESS', stepTimeoutInMinutes: 20 }));
      assert.equal(step.executionState, undefined);
      let described = await device.send(new DescribeJobExecutionCommand({ thingName: 'd5', jobId: 'timed' }));
      assert.equal(described.execution?.approximateSecondsBeforeTimedOut, 540);
      // -1 clears the step timer; the in-progress timer still runs.
      await device.send(new UpdateJobExecutionCommand({ thingName: 'd5', jobId: 'timed', status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 }));
      t.clock.advance(30_000);
      described = await device.send(new DescribeJobExecutionCommand({ thingName: 'd5', jobId: 'timed' }));
      assert.equal(described.execution?.approximateSecondsBeforeTimedOut, 510);
      const control = await t.iot.send(new ControlDescribeExecution({ thingName: 'd5', jobId: 'timed' }));
      assert.equal(control.execution?.approximateSecondsBeforeTimedOut, 510);
      await device.send(new UpdateJobExecutionCommand({ thingName: 'd5', jobId: 'timed', status: 'SUCCEEDED' }));
      described = await device.send(new DescribeJobExecutionCommand({ thingName: 'd5', jobId: 'timed' }));
      assert.equal(described.execution?.approximateSecondsBeforeTimedOut, undefined, 'a terminal execution has no timer');
    });

    it('keeps namespaced jobs off the plain device view', async () => {
      await createJob('ns-job', ['d6'], { namespaceId: 'aws-gg-deployment' });
      const plain = await device.send(new GetPendingJobExecutionsCommand({ thingName: 'd6' }));
      assert.deepEqual(plain.queuedJobs, []);
      const next = await device.send(new DescribeJobExecutionCommand({ thingName: 'd6', jobId: 'ns-job' }));
      assert.equal(next.execution?.status, 'QUEUED');
    });
  });
}

for (const backend of await testBackends()) {
  describe(`jobs wire details seen on raw HTTP (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      t.clock.set(Date.UTC(2026, 2, 1, 12, 0, 0, 250));
      await seedThing(t, 'w1');
      await t.iot.send(new CreateJobCommand({ jobId: 'wire', targets: [thingArn('w1')], document: '{"op":"wire"}' }));
    });
    after(async () => t?.close());

    it('routes the same path to two APIs by signing name, with each plane\'s timestamps', async () => {
      const data = await sendSigned(t.url, { method: 'GET', path: '/things/w1/jobs/wire' }, { service: 'iot-jobs-data' });
      assert.equal(data.status, 200);
      const execution = data.json!.execution as Record<string, unknown>;
      assert.equal(execution.queuedAt, Math.floor(Date.UTC(2026, 2, 1, 12, 0, 0) / 1000), 'whole epoch seconds');
      assert.equal(typeof execution.jobDocument, 'string');
      assert.equal(execution.thingName, 'w1');

      const control = await sendSigned(t.url, { method: 'GET', path: '/things/w1/jobs/wire' }, { service: 'iot' });
      assert.equal(control.status, 200);
      const cexec = control.json!.execution as Record<string, unknown>;
      assert.equal(cexec.queuedAt, Date.UTC(2026, 2, 1, 12, 0, 0, 250) / 1000, 'fractional epoch seconds');
      assert.equal(cexec.thingArn, thingArn('w1'));
      assert.equal(cexec.jobDocument, undefined);

      const peek = await sendSigned(t.url, { method: 'GET', path: '/things/w1/jobs/%24next' }, { service: 'iot-jobs-data' });
      assert.equal((peek.json!.execution as Record<string, unknown>).jobId, 'wire');
    });

    it('writes the configuration doubles with a fraction in DescribeJob', async () => {
      await t.iot.send(new CreateJobCommand({
        jobId: 'doubles', targets: [thingArn('w1')], document: '{}',
        abortConfig: { criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 20, minNumberOfExecutedThings: 1 }] },
        jobExecutionsRolloutConfig: { maximumPerMinute: 100, exponentialRate: { baseRatePerMinute: 10, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 5 } } },
      }));
      const res = await sendSigned(t.url, { method: 'GET', path: '/jobs/doubles' });
      assert.match(res.text, /"thresholdPercentage":20\.0[,}]/);
      assert.match(res.text, /"incrementFactor":2\.0[,}]/);
    });

    it('puts executionState in the body of a version-mismatch 409', async () => {
      const res = await sendSigned(t.url, { method: 'POST', path: '/things/w1/jobs/wire', body: JSON.stringify({ status: 'IN_PROGRESS', expectedVersion: 7 }) }, { service: 'iot-jobs-data' });
      assert.equal(res.status, 409);
      assert.equal(res.headers['x-amzn-errortype'], 'InvalidStateTransitionException');
      assert.deepEqual(res.json!.executionState, { status: 'QUEUED', versionNumber: 1 });
      const bad = await sendSigned(t.url, { method: 'POST', path: '/things/w1/jobs/wire', body: '{"status":' }, { service: 'iot-jobs-data' });
      assert.equal(bad.status, 400);
      assert.equal(bad.headers['x-amzn-errortype'], 'InvalidRequestException');
      const notNumber = await sendSigned(t.url, { method: 'POST', path: '/things/w1/jobs/wire', body: JSON.stringify({ status: 'IN_PROGRESS', expectedVersion: 'one' }) }, { service: 'iot-jobs-data' });
      assert.equal(notNumber.status, 400);
    });
  });
}
