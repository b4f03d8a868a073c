import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingGroupCommand,
  DeleteThingCommand,
  DescribeJobExecutionCommand,
  ListJobExecutionsForThingCommand,
  RemoveThingFromThingGroupCommand,
} from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { testBackends } from '../support/backends.js';
import { counters, groupArn, jobsDataClient, jobState, pickCounters, seedGroup, seedThing, thingArn } from '../support/jobs.js';
import { startTestServer, type TestServer } from '../support/server.js';

for (const backend of await testBackends()) {
  describe(`CONTINUOUS jobs follow group membership; thing deletion removes executions (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let device: IoTJobsDataPlaneClient;
    const join = (thingName: string, thingGroupName: string) => t.iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName }));
    const leave = (thingName: string, thingGroupName: string) => t.iot.send(new RemoveThingFromThingGroupCommand({ thingName, thingGroupName }));
    const latest = async (jobId: string, thingName: string) => (await t.iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution!;

    before(async () => {
      t = await startTestServer(backend);
      device = jobsDataClient(t);
      await seedGroup(t, 'ring', []);
      await seedGroup(t, 'ring-child', [], 'ring');
      await seedGroup(t, 'other', []);
      for (const thing of ['m1', 'm2', 'm3', 'm4']) await seedThing(t, thing);
      await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'unrelated' }));
      await t.iot.send(new CreateJobCommand({
        jobId: 'always', targets: [groupArn('ring'), groupArn('other')], document: '{}', targetSelection: 'CONTINUOUS',
      }));
    });
    after(async () => {
      device?.destroy();
      await t?.close();
    });

    it('queues an execution for a thing that joins, and REMOVES a QUEUED one whose thing leaves', async () => {
      assert.deepEqual(pickCounters(await jobState(t, 'always')), counters({}));
      assert.equal((await jobState(t, 'always')).status, 'IN_PROGRESS', 'an empty CONTINUOUS job keeps running');
      await join('m1', 'ring');
      let e = await latest('always', 'm1');
      assert.deepEqual([e.status, e.executionNumber, e.versionNumber], ['QUEUED', 1, 1]);
      assert.deepEqual(pickCounters(await jobState(t, 'always')), counters({ queued: 1 }));

      await join('m1', 'unrelated');
      await leave('m1', 'unrelated');
      assert.equal((await latest('always', 'm1')).status, 'QUEUED', 'groups outside the targets do not matter');

      await leave('m1', 'ring');
      e = await latest('always', 'm1');
      assert.deepEqual([e.status, e.executionNumber, e.versionNumber], ['REMOVED', 1, 1]);
      assert.deepEqual(pickCounters(await jobState(t, 'always')), counters({ removed: 1 }));

      await join('m1', 'ring');
      e = await latest('always', 'm1');
      assert.deepEqual([e.status, e.executionNumber, e.versionNumber], ['QUEUED', 2, 1]);
      assert.deepEqual(pickCounters(await jobState(t, 'always')), counters({ queued: 1, removed: 1 }));
      const history = await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: 'm1' }));
      assert.deepEqual(history.executionSummaries?.map((s) => [s.jobId, s.jobExecutionSummary?.executionNumber, s.jobExecutionSummary?.status]), [
        ['always', 2, 'QUEUED'], ['always', 1, 'REMOVED'],
      ]);
    });

    it('does nothing for a join while pending, or a leave while another target group still holds the thing', async () => {
      await join('m1', 'other');
      assert.equal((await latest('always', 'm1')).executionNumber, 2, 'already QUEUED: no new execution');
      await leave('m1', 'ring');
      assert.equal((await latest('always', 'm1')).status, 'QUEUED', 'still in the target group other');
      await leave('m1', 'other');
      assert.equal((await latest('always', 'm1')).status, 'REMOVED');
    });

    it('reaches things that join a descendant of a target group; finished executions survive a leave', async () => {
      await join('m2', 'ring-child');
      assert.equal((await latest('always', 'm2')).status, 'QUEUED');
      const started = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'm2' }));
      assert.equal(started.execution?.jobId, 'always');
      await leave('m2', 'ring-child');
      assert.equal((await latest('always', 'm2')).status, 'IN_PROGRESS', 'leaving while IN_PROGRESS changes nothing');
      await device.send(new UpdateJobExecutionCommand({ thingName: 'm2', jobId: 'always', status: 'SUCCEEDED' }));
      await join('m2', 'ring');
      const e = await latest('always', 'm2');
      assert.deepEqual([e.status, e.executionNumber], ['QUEUED', 2], 'a re-join after a terminal execution runs the job again');
      assert.deepEqual(pickCounters(await jobState(t, 'always')), counters({ queued: 1, succeeded: 1, removed: 2 }));
      assert.equal((await jobState(t, 'always')).status, 'IN_PROGRESS');
    });

    it('moves a deleted thing\'s pending executions to REMOVED', async () => {
      await join('m3', 'ring');
      await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'm3' }));
      await t.iot.send(new DeleteThingCommand({ thingName: 'm3' }));
      const e = await latest('always', 'm3');
      assert.deepEqual([e.status, e.versionNumber], ['REMOVED', 2]);
      assert.deepEqual(pickCounters(await jobState(t, 'always')), counters({ queued: 1, succeeded: 1, removed: 3 }));
    });

    it('SNAPSHOT jobs ignore later membership, and complete when a deleted thing was the last one pending', async () => {
      await seedGroup(t, 'snap', ['m4']);
      await seedThing(t, 'm5');
      await t.iot.send(new CreateJobCommand({ jobId: 'once', targets: [groupArn('snap'), thingArn('m5')], document: '{}' }));
      await seedThing(t, 'm6');
      await join('m6', 'snap');
      const forM6 = await t.iot.send(new ListJobExecutionsForThingCommand({ thingName: 'm6' }));
      assert.deepEqual(forM6.executionSummaries, []);
      await leave('m4', 'snap');
      assert.equal((await latest('once', 'm4')).status, 'QUEUED', 'a SNAPSHOT job does not react to a leave');

      await device.send(new UpdateJobExecutionCommand({ thingName: 'm4', jobId: 'once', status: 'SUCCEEDED' }));
      assert.equal((await jobState(t, 'once')).status, 'IN_PROGRESS');
      await t.iot.send(new DeleteThingCommand({ thingName: 'm5' }));
      const s = await jobState(t, 'once');
      assert.deepEqual(pickCounters(s), counters({ succeeded: 1, removed: 1 }));
      assert.equal(s.status, 'COMPLETED');
    });
  });
}
