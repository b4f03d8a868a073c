import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { GetPendingJobExecutionsCommand, UpdateJobExecutionCommand, type IoTJobsDataPlaneClient } from '@aws-sdk/client-iot-jobs-data-plane';
import { VirtualClock } from '../../src/clock.js';
import { testBackends } from '../support/backends.js';
import { jobsDataClient, thingArn } from '../support/jobs.js';
import { SuiteDevices } from '../support/mqtt.js';
import { expectAwsError, startTestServer, type TestServer } from '../support/server.js';

/**
 * `--throttle` on the MQTT jobs topics (decision 0050): a jobs request over MQTT takes the bucket
 * of its HTTPS data-plane operation, one allowance for both doors, and over the rate it is answered
 * on `/rejected` with `RequestThrottled` (jobs.md §10.2, §12) before anything runs.
 */
const dir = mkdtempSync(join(tmpdir(), 'fleetjobs-mqtt-throttle-'));
const rates = join(dir, 'rates.json');
writeFileSync(rates, JSON.stringify({
  limits: [
    { api: 'iot-jobs-data', operations: ['UpdateJobExecution'], perSecond: 1, burst: 1 },
    { api: 'iot-jobs-data', operations: ['GetPendingJobExecutions'], perSecond: 1, burst: 1 },
  ],
}));

for (const backend of await testBackends()) {
  describe(`MQTT jobs requests under --throttle (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    let https: IoTJobsDataPlaneClient;
    const devices = new SuiteDevices();
    const rateClock = new VirtualClock(Date.now());
    before(async () => {
      t = await startTestServer(backend, { rateClock }, { FLEETJOBS_THROTTLE: rates });
      https = jobsDataClient(t);
    });
    after(async () => {
      await devices.closeAll();
      https?.destroy();
      await t?.close();
    });
    const device = (thingName: string) => devices.connect(t, thingName);
    const control = async (jobId: string, thingName: string) => (await t.iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution!;

    it('refuses an update over the rate with RequestThrottled in AWS\'s shape, and the execution is unchanged', async () => {
      const d = await device('thr-1');
      await t.iot.send(new CreateJobCommand({ jobId: 'thr-job', targets: [thingArn('thr-1')], document: '{}' }));
      // StartNext is in no limit: never throttled.
      const started = await d.request('jobs/start-next', {});
      assert.ok(started.accepted, JSON.stringify(started.body));
      rateClock.advance(10_000);

      const first = await d.request('jobs/thr-job/update', { status: 'IN_PROGRESS', statusDetails: { step: '1' }, expectedVersion: 2 });
      assert.ok(first.accepted, JSON.stringify(first.body));
      const throttled = await d.request('jobs/thr-job/update', { status: 'SUCCEEDED', expectedVersion: 3 });
      assert.equal(throttled.accepted, false);
      assert.deepEqual(Object.keys(throttled.body).sort(), ['clientToken', 'code', 'message', 'timestamp']);
      assert.equal(throttled.body.code, 'RequestThrottled');
      assert.equal(throttled.body.message, 'Rate exceeded');
      assert.equal(typeof throttled.body.clientToken, 'string');
      assert.ok(Number.isInteger(throttled.body.timestamp), JSON.stringify(throttled.body));
      const ex = await control('thr-job', 'thr-1');
      assert.equal(ex.status, 'IN_PROGRESS');
      assert.equal(ex.versionNumber, 3);
      assert.deepEqual(ex.statusDetails?.detailsMap, { step: '1' });

      rateClock.advance(1000);
      const done = await d.request('jobs/thr-job/update', { status: 'SUCCEEDED', expectedVersion: 3 });
      assert.ok(done.accepted, JSON.stringify(done.body));
      assert.equal((await control('thr-job', 'thr-1')).status, 'SUCCEEDED');
    });

    it('shares one bucket per operation between HTTPS and MQTT, in both directions', async () => {
      const d = await device('thr-2');
      await t.iot.send(new CreateJobCommand({ jobId: 'thr-shared', targets: [thingArn('thr-2')], document: '{}' }));
      rateClock.advance(10_000);

      // MQTT takes the token: HTTPS is refused 429 and changes nothing.
      assert.ok((await d.request('jobs/thr-shared/update', { status: 'IN_PROGRESS', expectedVersion: 1 })).accepted);
      await expectAwsError(https.send(new UpdateJobExecutionCommand({ thingName: 'thr-2', jobId: 'thr-shared', status: 'SUCCEEDED' })), 'ThrottlingException', { status: 429 });
      assert.equal((await control('thr-shared', 'thr-2')).status, 'IN_PROGRESS');

      // HTTPS takes the token: MQTT is refused and changes nothing.
      rateClock.advance(1000);
      await https.send(new UpdateJobExecutionCommand({ thingName: 'thr-2', jobId: 'thr-shared', status: 'IN_PROGRESS', statusDetails: { via: 'https' } }));
      const refused = await d.request('jobs/thr-shared/update', { status: 'FAILED' });
      assert.equal(refused.body.code, 'RequestThrottled');
      const ex = await control('thr-shared', 'thr-2');
      assert.equal(ex.status, 'IN_PROGRESS');
      assert.equal(ex.versionNumber, 3);

      // GetPendingJobExecutions has its own bucket, also shared; UpdateJobExecution's is still empty.
      assert.ok((await d.request('jobs/get', {})).accepted);
      await expectAwsError(https.send(new GetPendingJobExecutionsCommand({ thingName: 'thr-2' })), 'ThrottlingException', { status: 429 });
      rateClock.advance(1000);
      await https.send(new GetPendingJobExecutionsCommand({ thingName: 'thr-2' }));
      // Without a clientToken the refusal carries none; describe is in no limit.
      const bare = await d.raw('jobs/get', '{}');
      assert.equal(bare.topic, d.topic('jobs/get/rejected'));
      assert.deepEqual(Object.keys(bare.json!).sort(), ['code', 'message', 'timestamp']);
      for (let i = 0; i < 5; i++) assert.ok((await d.request('jobs/thr-shared/get', {})).accepted);
    });
  });
}
