import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CancelJobCommand, CreateJobCommand, DeleteJobCommand, DescribeJobCommand } from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { Arns } from '../../src/domain/arns.js';
import { DEFAULT_LIMITS } from '../../src/domain/context.js';
import { createJobDomain } from '../../src/domain/jobs/job-domain.js';
import type { JobNotification } from '../../src/domain/jobs/job-notifications.js';
import { JobService } from '../../src/domain/jobs/job-service.js';
import { testBackends } from '../support/backends.js';
import { jobsDataClient, seedThing, thingArn } from '../support/jobs.js';
import { ACCOUNT, expectAwsError, REGION, startTestServer, type TestServer } from '../support/server.js';

for (const backend of await testBackends()) {
  describe(`notify / notify-next intents and job deletion (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let device: IoTJobsDataPlaneClient;
    let published: JobNotification[] = [];
    const thingNotes = () => published.filter((n) => n.kind === 'thing').map((n) => n.kind === 'thing' && [n.thingName, n.notify, n.notifyNext]);

    before(async () => {
      t = await startTestServer(backend, { jobNotifier: { publish: (notes) => published.push(...notes) } });
      device = jobsDataClient(t);
      for (const thing of ['n1', 'n2', 'n3']) await seedThing(t, thing);
    });
    beforeEach(() => {
      published = [];
    });
    after(async () => {
      device?.destroy();
      await t?.close();
    });

    it('announces a fan-out as one intent', async () => {
      await t.iot.send(new CreateJobCommand({ jobId: 'a', targets: [thingArn('n1'), thingArn('n2')], document: '{}' }));
      assert.equal(published.length, 1);
      assert.equal(published[0].kind, 'fanOut');
      assert.equal(published[0].kind === 'fanOut' && published[0].jobId, 'a');
      published = [];
      t.clock.advance(1000);
      await t.iot.send(new CreateJobCommand({ jobId: 'b', targets: [thingArn('n1')], document: '{}' }));
      assert.deepEqual(published.map((n) => n.kind === 'fanOut' && n.jobId), ['b']);
    });

    it('is silent for start-next on the front job and fires notify-next when a non-first job starts', async () => {
      await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'n2' }));
      assert.deepEqual(thingNotes(), [], 'start-next on the first job changes nothing');
      await device.send(new UpdateJobExecutionCommand({ thingName: 'n1', jobId: 'b', status: 'IN_PROGRESS' }));
      assert.deepEqual(thingNotes(), [['n1', false, true]], 'b became first: notify-next only');
      published = [];
      await device.send(new UpdateJobExecutionCommand({ thingName: 'n1', jobId: 'b', status: 'IN_PROGRESS', statusDetails: { p: '1' } }));
      assert.deepEqual(thingNotes(), [], 'a progress update is silent');
    });

    it('fires notify and notify-next when the first job ends, notify only when a later one does', async () => {
      await device.send(new UpdateJobExecutionCommand({ thingName: 'n2', jobId: 'a', status: 'SUCCEEDED' }));
      assert.deepEqual(thingNotes(), [['n2', true, true]]);
      published = [];
      t.clock.advance(1000);
      await t.iot.send(new CreateJobCommand({ jobId: 'c', targets: [thingArn('n1')], document: '{}' }));
      published = [];
      // n1: b IN_PROGRESS (front), a QUEUED, c QUEUED. Ending c (not first) → notify only.
      await device.send(new UpdateJobExecutionCommand({ thingName: 'n1', jobId: 'c', status: 'REJECTED' }));
      assert.deepEqual(thingNotes(), [['n1', true, false]]);
    });

    it('tells the things of a cancelled job, notify-next where it was their front', async () => {
      await t.iot.send(new CreateJobCommand({ jobId: 'd', targets: [thingArn('n1'), thingArn('n3')], document: '{}' }));
      published = [];
      await t.iot.send(new CancelJobCommand({ jobId: 'd' }));
      const notes = thingNotes().sort();
      assert.deepEqual(notes, [['n1', true, false], ['n3', true, true]]);
    });

    it('with two jobs IN_PROGRESS, ending the later one fires notify only, ending the front notify-next too', async () => {
      // n1: b IN_PROGRESS, a QUEUED (queued before b). Starting a puts it in front: IN_PROGRESS
      // executions come first, in queue order.
      await device.send(new UpdateJobExecutionCommand({ thingName: 'n1', jobId: 'a', status: 'IN_PROGRESS' }));
      assert.deepEqual(thingNotes(), [['n1', false, true]]);
      published = [];
      await device.send(new UpdateJobExecutionCommand({ thingName: 'n1', jobId: 'b', status: 'SUCCEEDED' }));
      assert.deepEqual(thingNotes(), [['n1', true, false]], 'b was behind a');
      published = [];
      await device.send(new UpdateJobExecutionCommand({ thingName: 'n1', jobId: 'a', status: 'FAILED' }));
      assert.deepEqual(thingNotes(), [['n1', true, true]], 'a was the front');
    });

    it('shows DELETION_IN_PROGRESS and allows at most 10 deletions at once', async () => {
      const ctx = { store: t.server.store, clock: t.clock, arns: new Arns(REGION, ACCOUNT), limits: DEFAULT_LIMITS };
      const domain = createJobDomain(ctx, { notifier: { publish: () => undefined }, packageConfiguration: { current: async () => ({ enabled: false }) } });
      const deferred: (() => Promise<void>)[] = [];
      // The same service the server runs, with deletions held back so the in-between state is visible.
      const jobs = new JobService(ctx, domain, (run) => deferred.push(run));
      for (let i = 0; i < 11; i++) await t.iot.send(new CreateJobCommand({ jobId: `del-${i}`, targets: [thingArn('n3')], document: '{}' }));
      for (let i = 0; i < 10; i++) await jobs.deleteJob({ jobId: `del-${i}`, force: true });
      assert.equal((await t.iot.send(new DescribeJobCommand({ jobId: 'del-0' }))).job?.status, 'DELETION_IN_PROGRESS');
      await expectAwsError(t.iot.send(new DeleteJobCommand({ jobId: 'del-10', force: true })), 'LimitExceededException', { status: 410 });
      await expectAwsError(t.iot.send(new DeleteJobCommand({ jobId: 'del-0', force: true })), 'InvalidStateTransitionException', { status: 409 });
      await expectAwsError(t.iot.send(new CancelJobCommand({ jobId: 'del-0' })), 'InvalidStateTransitionException', { status: 409 });
      for (const run of deferred.splice(0)) await run();
      await expectAwsError(t.iot.send(new DescribeJobCommand({ jobId: 'del-0' })), 'ResourceNotFoundException');
      await jobs.deleteJob({ jobId: 'del-10', force: true });
      for (const run of deferred.splice(0)) await run();
      await expectAwsError(t.iot.send(new DescribeJobCommand({ jobId: 'del-10' })), 'ResourceNotFoundException');
    });
  });
}
