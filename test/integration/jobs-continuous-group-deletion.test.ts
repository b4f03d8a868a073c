import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AddThingToThingGroupCommand, CreateJobCommand, DeleteThingGroupCommand, DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import type { JobNotification } from '../../src/domain/jobs/job-notifications.js';
import { testBackends } from '../support/backends.js';
import { counters, groupArn, jobsDataClient, jobState, pickCounters, seedGroup, thingArn } from '../support/jobs.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * DeleteThingGroup tells CONTINUOUS jobs of its members in batches (jobs.md §2.3): a QUEUED execution
 * becomes REMOVED only when its thing is in no target group tree of the job and not a target itself.
 * Run with the default (no-op) notifier and with one that records, since the two take different paths.
 */
for (const backend of await testBackends()) {
  for (const recording of [false, true]) {
    describe(`DeleteThingGroup and CONTINUOUS jobs (${backend.name}, ${recording ? 'recording notifier' : 'no-op notifier'})`, { skip: backend.skip }, () => {
      let t: TestServer;
      let device: IoTJobsDataPlaneClient;
      const published: JobNotification[] = [];
      const status = async (thingName: string) => (await t.iot.send(new DescribeJobExecutionCommand({ jobId: 'cont', thingName }))).execution?.status;

      before(async () => {
        t = await startTestServer(backend, recording ? { jobNotifier: { publish: (notes) => published.push(...notes) } } : {});
        device = jobsDataClient(t);
        await seedGroup(t, 'fleet', []);
        await seedGroup(t, 'also', []);
        await seedGroup(t, 'elsewhere', ['x1']);
        // g1 only in fleet-a; g2 also in another target group; g3 gets started; g4 is a target itself.
        await seedGroup(t, 'fleet-a', ['g1', 'g2', 'g3', 'g4'], 'fleet');
        await t.iot.send(new AddThingToThingGroupCommand({ thingName: 'g2', thingGroupName: 'also' }));
        await t.iot.send(new CreateJobCommand({
          jobId: 'cont', targets: [groupArn('fleet'), groupArn('also'), thingArn('g4')], document: '{}', targetSelection: 'CONTINUOUS',
        }));
        await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'g3' }));
      });
      after(async () => {
        device?.destroy();
        await t?.close();
      });

      it('REMOVES the QUEUED executions of members no longer targeted, and nothing else', async () => {
        await t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'elsewhere' }));
        assert.deepEqual(pickCounters(await jobState(t, 'cont')), counters({ queued: 3, inProgress: 1 }), 'a group outside the targets changes nothing');
        published.length = 0;
        await t.iot.send(new DeleteThingGroupCommand({ thingGroupName: 'fleet-a' }));
        assert.deepEqual([await status('g1'), await status('g2'), await status('g3'), await status('g4')], ['REMOVED', 'QUEUED', 'IN_PROGRESS', 'QUEUED']);
        assert.deepEqual(pickCounters(await jobState(t, 'cont')), counters({ queued: 2, inProgress: 1, removed: 1 }));
        assert.equal((await jobState(t, 'cont')).status, 'IN_PROGRESS');
        if (recording) {
          assert.deepEqual(published.map((n) => n.kind === 'thing' && [n.thingName, n.notify, n.notifyNext]), [['g1', true, true]]);
        }
      });
    });
  }
}
