import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, CreateThingCommand, DescribeJobCommand, DescribeJobExecutionCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import { StartNextPendingJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { seedFleet } from '../../bench/seed-fleet.js';
import { testBackends } from '../support/backends.js';
import { groupArn, jobsDataClient, seedGroup, thingArn } from '../support/jobs.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Test mode's clock as a user's suite drives it, through `POST /_fleetjobs/clock` only: an
 * exponential rollout over 10,000 things, a one-hour timeout and a weekly maintenance window, each
 * run to its end in well under a second of wall time per virtual hour (the figures are printed),
 * and the SDK clients signing with the wall clock all along.
 */
for (const backend of await testBackends()) {
  describe(`test mode: the clock endpoint drives the engine (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let devices: IoTJobsDataPlaneClient;
    before(async () => {
      t = await startTestServer(backend, { clock: undefined }, { FLEETJOBS_TEST_MODE: '1' });
      devices = jobsDataClient(t);
    });
    after(async () => {
      devices?.destroy();
      await t?.close();
    });

    const clock = async (body: Record<string, unknown>) => {
      const res = await sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/clock', body: JSON.stringify(body) });
      assert.equal(res.status, 200, res.text);
      return res.json as { now: string; frozen: boolean };
    };
    const released = async (jobId: string) => {
      const d = (await t.iot.send(new DescribeJobCommand({ jobId }))).job!.jobProcessDetails!;
      return d.numberOfQueuedThings! + d.numberOfInProgressThings! + d.numberOfSucceededThings!;
    };

    it('takes only exact, zoned times from 1970 to 9999, and applies changes one at a time', async () => {
      const post = (body: Record<string, unknown>) => sendSigned(t.url, { method: 'POST', path: '/_fleetjobs/clock', body: JSON.stringify(body) });
      assert.deepEqual(await clock({ set: '2030-01-01T02:00:00+02:00' }), { now: '2030-01-01T00:00:00.000Z', frozen: true });
      for (const set of ['2030-02-30T00:00:00Z', '2030-01-01T00:00:00', '0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '10000-01-01T00:00:00Z', 'tomorrow', 7]) {
        const res = await post({ set });
        assert.equal(res.status, 400, `${JSON.stringify(set)}: ${res.text}`);
        assert.equal(res.json?.__type, 'InvalidRequestException');
      }
      await clock({ set: '9999-12-31T00:00:00Z' });
      assert.equal((await post({ advanceSeconds: 86400 * 2 })).status, 400, 'not past 9999');
      assert.equal((await clock({ advanceSeconds: 0 })).now, '9999-12-31T00:00:00.000Z', 'a refused change changes nothing');
      // A freeze sent while a running clock advances applies after the advance, so it holds.
      await clock({ set: '2030-01-01T00:00:00Z' });
      await clock({ run: true });
      const [advanced, frozen] = await Promise.all([clock({ advanceSeconds: 36_000 }), clock({ freeze: true })]);
      assert.equal(advanced.frozen, false);
      assert.equal(frozen.frozen, true);
      assert.ok(Date.parse(frozen.now) >= Date.parse('2030-01-01T10:00:00Z'), `the advance was not lost: ${frozen.now}`);
      assert.equal((await clock({ advanceSeconds: 0 })).frozen, true);
    });

    it('ramps an exponential rollout over 10,000 things minute by minute to its end', async () => {
      await clock({ set: '2030-03-01T00:00:00Z' });
      await seedFleet(t, backend, 'big-fleet', 'big', 10_000);
      await t.iot.send(new CreateJobCommand({
        jobId: 'ramp', targets: [groupArn('big-fleet')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 1000, exponentialRate: { baseRatePerMinute: 10, incrementFactor: 2, rateIncreaseCriteria: { numberOfNotifiedThings: 10 } } },
      }));
      const perMinute: number[] = [await released('ramp')];
      const started = performance.now();
      while (perMinute.reduce((a, b) => a + b, 0) < 10_000 && perMinute.length < 60) {
        const before = perMinute.reduce((a, b) => a + b, 0);
        await clock({ advanceSeconds: 60 });
        perMinute.push((await released('ramp')) - before);
      }
      const wallMs = performance.now() - started;
      console.log(`# ${perMinute.length - 1} virtual minutes of an exponential rollout over 10,000 things in ${wallMs.toFixed(0)} ms (${backend.name}): ${perMinute.join(', ')}`);
      // The rate is base × factor^k, k the multiples of the threshold notified so far (10 → k 1,
      // 30 → k 3, 110 → k 11, capped at maximumPerMinute), as jobs-rollout-rate.test.ts pins down.
      assert.deepEqual(perMinute, [10, 20, 80, ...Array<number>(9).fill(1000), 890]);
      assert.equal((await clock({ advanceSeconds: 0 })).now, new Date(Date.parse('2030-03-01T00:00:00Z') + (perMinute.length - 1) * 60_000).toISOString());
    });

    it('times an execution out after an hour, to the second', async () => {
      await t.iot.send(new CreateThingCommand({ thingName: 'slow' }));
      await t.iot.send(new CreateJobCommand({ jobId: 'hour', targets: [thingArn('slow')], document: '{}', timeoutConfig: { inProgressTimeoutInMinutes: 60 } }));
      await devices.send(new StartNextPendingJobExecutionCommand({ thingName: 'slow' }));
      const started = performance.now();
      await clock({ advanceSeconds: 3599 });
      assert.equal((await t.iot.send(new DescribeJobExecutionCommand({ jobId: 'hour', thingName: 'slow' }))).execution?.status, 'IN_PROGRESS');
      await clock({ advanceSeconds: 1 });
      console.log(`# an hour's timeout in ${(performance.now() - started).toFixed(0)} ms (${backend.name})`);
      assert.equal((await t.iot.send(new DescribeJobExecutionCommand({ jobId: 'hour', thingName: 'slow' }))).execution?.status, 'TIMED_OUT');
      assert.equal((await t.iot.send(new DescribeJobCommand({ jobId: 'hour' }))).job?.status, 'COMPLETED');
    });

    it('rolls out only in a weekly maintenance window, next Tuesday and the one after', async () => {
      await clock({ set: '2030-01-07T12:00:00Z' }); // a Monday
      await seedGroup(t, 'weekly-fleet', ['w1', 'w2', 'w3']);
      await t.iot.send(new CreateJobCommand({
        jobId: 'weekly', targets: [groupArn('weekly-fleet')], document: '{}', targetSelection: 'CONTINUOUS',
        jobExecutionsRolloutConfig: { maximumPerMinute: 2 },
        schedulingConfig: { maintenanceWindows: [{ startTime: 'cron(0 2 ? * TUE *)', durationInMinutes: 1 }] },
      }));
      const job = async () => (await t.iot.send(new DescribeJobCommand({ jobId: 'weekly' }))).job!;
      assert.equal((await job()).status, 'SCHEDULED');
      assert.equal((await job()).scheduledJobRollouts?.[0]?.startTime, '2030-01-08T02:00', 'AWS writes it to the minute');
      const started = performance.now();
      await clock({ set: '2030-01-08T02:00:00Z' });
      assert.equal((await job()).status, 'IN_PROGRESS');
      assert.equal(await released('weekly'), 2, 'maximumPerMinute inside the window');
      await clock({ advanceSeconds: 60 });
      assert.equal((await job()).status, 'SCHEDULED', 'the window closed after its minute');
      assert.equal(await released('weekly'), 2);
      assert.equal((await job()).scheduledJobRollouts?.[0]?.startTime, '2030-01-15T02:00', 'the next one is a week later');
      await clock({ set: '2030-01-15T02:00:00Z' });
      console.log(`# two weekly maintenance windows in ${(performance.now() - started).toFixed(0)} ms (${backend.name})`);
      assert.equal(await released('weekly'), 3);
      // The SDK client signed every call with the wall clock, eight days behind the server's.
      assert.ok((await t.iot.send(new ListThingsCommand({}))).things!.length >= 3);
    });
  });
}
