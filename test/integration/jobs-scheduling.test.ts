import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CancelJobCommand, CreateJobCommand, DescribeJobCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { counters, groupArn, jobState, pickCounters, seedGroup, seedThing, thingArn } from '../support/jobs.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * What schedulingConfig changes at CreateJob and in DescribeJob (jobs.md §2.1, §6): only a start
 * time or maintenance windows make a job SCHEDULED, and DescribeJob lists the next openings of its
 * windows as scheduledJobRollouts.
 */
for (const backend of await testBackends()) {
  describe(`IoT Jobs scheduling settings (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    const doc = '{"op":"x"}';

    before(async () => {
      t = await startTestServer(backend);
      await seedGroup(t, 'site', ['s1', 's2']);
      await seedThing(t, 'lonely');
    });
    after(async () => {
      await t?.close();
    });

    it('rolls a job out at once when schedulingConfig has neither a startTime nor maintenance windows', async () => {
      const start = new Date(t.clock.now() + 2 * 3600_000).toISOString().slice(0, 16);
      await t.iot.send(new CreateJobCommand({ jobId: 'later', targets: [thingArn('lonely')], document: doc, schedulingConfig: { startTime: start } }));
      assert.equal((await jobState(t, 'later')).status, 'SCHEDULED');

      // Neither an empty schedulingConfig nor an endTime alone makes a job wait: it rolls out at once.
      const end = new Date(t.clock.now() + 3 * 3600_000).toISOString().slice(0, 16);
      await t.iot.send(new CreateJobCommand({ jobId: 'unscheduled', targets: [thingArn('lonely')], document: doc, schedulingConfig: {} }));
      await t.iot.send(new CreateJobCommand({ jobId: 'bounded', targets: [thingArn('lonely')], document: doc, schedulingConfig: { endTime: end, endBehavior: 'CANCEL' } }));
      for (const jobId of ['unscheduled', 'bounded']) {
        const state = await jobState(t, jobId);
        assert.equal(state.status, 'IN_PROGRESS', jobId);
        assert.deepEqual(pickCounters(state), counters({ queued: 1 }), jobId);
      }
      const { job: bounded } = await t.iot.send(new DescribeJobCommand({ jobId: 'bounded' }));
      assert.deepEqual(bounded?.schedulingConfig, { endTime: end, endBehavior: 'CANCEL' });
      assert.equal(bounded?.scheduledJobRollouts, undefined);
    });

    it('lists the next seven maintenance-window openings of a job, up to its endTime', async () => {
      // The openings, worked out by plain date arithmetic: 02:00 UTC on each day that `keep` accepts.
      const openings = (from: number, keep: (d: Date) => boolean, until = Infinity) => {
        const out: string[] = [];
        const day = new Date(from);
        day.setUTCHours(2, 0, 0, 0);
        while (out.length < 7 && day.getTime() < until) {
          if (day.getTime() >= from && keep(day)) out.push(day.toISOString().slice(0, 16));
          day.setUTCDate(day.getUTCDate() + 1);
        }
        return out;
      };
      const now = t.clock.now();
      await t.iot.send(new CreateJobCommand({
        jobId: 'weekly', targets: [groupArn('site')], document: doc, targetSelection: 'CONTINUOUS',
        schedulingConfig: { maintenanceWindows: [{ startTime: 'cron(0 2 ? * MON *)', durationInMinutes: 60 }] },
      }));
      const { job: weekly } = await t.iot.send(new DescribeJobCommand({ jobId: 'weekly' }));
      assert.equal(weekly?.status, 'SCHEDULED');
      assert.deepEqual(weekly?.scheduledJobRollouts?.map((r) => r.startTime), openings(now, (d) => d.getUTCDay() === 1));

      const endMs = now + 4 * 24 * 3600_000;
      const endTime = new Date(endMs).toISOString().slice(0, 16);
      await t.iot.send(new CreateJobCommand({
        jobId: 'nightly', targets: [groupArn('site')], document: doc, targetSelection: 'CONTINUOUS',
        schedulingConfig: { endTime, endBehavior: 'STOP_ROLLOUT', maintenanceWindows: [{ startTime: 'cron(0 2 * * ? *)', durationInMinutes: 30 }] },
      }));
      const { job: nightly } = await t.iot.send(new DescribeJobCommand({ jobId: 'nightly' }));
      const expected = openings(now, () => true, endMs);
      assert.ok(expected.length >= 3 && expected.length <= 4, expected.join());
      assert.deepEqual(nightly?.scheduledJobRollouts?.map((r) => r.startTime), expected);

      await t.iot.send(new CancelJobCommand({ jobId: 'nightly' }));
      assert.equal((await t.iot.send(new DescribeJobCommand({ jobId: 'nightly' }))).job?.scheduledJobRollouts, undefined);
    });
  });
}
