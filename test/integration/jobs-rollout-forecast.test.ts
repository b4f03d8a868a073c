import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CancelJobCommand, CreateJobCommand, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import { testBackends } from '../support/backends.js';
import { groupArn, seedGroup } from '../support/jobs.js';
import { sendSigned } from '../support/raw-signed-http.js';
import { fleetjobsCommand, REPO } from '../support/serve-process.js';
import { startTestServer, TEST_CREDENTIALS, type TestServer } from '../support/server.js';

const MINUTE = 60_000;
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

interface Forecast {
  jobId: string;
  generatedAt: string;
  releases: { fraction: number; expectedAt: string | null }[];
  expectedRolloutEnd: string | null;
}

/**
 * The rollout forecast (issue 10, item 8): `GET /_fleetjobs/jobs/{jobId}/forecast` and
 * `fleetjobs forecast`, checked against what the engine then does on the virtual clock.
 */
for (const backend of await testBackends()) {
  describe(`rollout forecast (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(async () => t?.close());

    async function forecast(jobId: string): Promise<Forecast> {
      const res = await sendSigned(t.url, { method: 'GET', path: `/_fleetjobs/jobs/${jobId}/forecast` });
      assert.equal(res.status, 200, res.text);
      return res.json as unknown as Forecast;
    }

    /** When the ⌈k/10 × N⌉-th target of the job was released (targets of one group go in name order). */
    async function actualReleases(jobId: string, total: number): Promise<(string | null)[]> {
      const queued: number[] = [];
      let nextToken: string | undefined;
      do {
        const page = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 250, nextToken }));
        for (const s of page.executionSummaries ?? []) queued.push(s.jobExecutionSummary!.queuedAt!.getTime());
        nextToken = page.nextToken;
      } while (nextToken);
      return Array.from({ length: 10 }, (_, k) => {
        const i = Math.ceil(((k + 1) * total) / 10);
        return i <= queued.length ? new Date(queued[i - 1]).toISOString() : null;
      });
    }

    it('forecasts a constant rate, and keeps the times of what was released', async () => {
      const things = names('fc', 100);
      await seedGroup(t, 'fc-fleet', things);
      const t0 = t.clock.now();
      await t.iot.send(new CreateJobCommand({ jobId: 'fc', targets: [groupArn('fc-fleet')], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 10 } }));
      const before = await forecast('fc');
      assert.equal(before.jobId, 'fc');
      assert.equal(before.generatedAt, new Date(t0).toISOString());
      assert.deepEqual(before.releases.map((r) => r.fraction), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
      assert.deepEqual(before.releases.map((r) => r.expectedAt), Array.from({ length: 10 }, (_, k) => new Date(t0 + k * MINUTE).toISOString()));
      assert.equal(before.expectedRolloutEnd, new Date(t0 + 9 * MINUTE).toISOString());
      await t.advance(3 * MINUTE + 30_000);
      const during = await forecast('fc');
      assert.deepEqual(during.releases, before.releases, 'the past is what happened, the future unchanged');
      await t.advance(10 * MINUTE);
      assert.deepEqual(await actualReleases('fc', 100), before.releases.map((r) => r.expectedAt));
    });

    it('forecasts an exponential ramp exactly as the engine then releases it', async () => {
      const things = names('ramp', 150);
      await seedGroup(t, 'ramp-fc', things);
      await t.iot.send(new CreateJobCommand({
        jobId: 'ramp-fc', targets: [groupArn('ramp-fc')], document: '{}',
        jobExecutionsRolloutConfig: { maximumPerMinute: 40, exponentialRate: { baseRatePerMinute: 3, incrementFactor: 1.5, rateIncreaseCriteria: { numberOfNotifiedThings: 5 } } },
      }));
      const predicted = (await forecast('ramp-fc')).releases.map((r) => r.expectedAt);
      await t.advance(60 * MINUTE);
      assert.deepEqual(await actualReleases('ramp-fc', 150), predicted);
    });

    it('forecasts across maintenance windows', async () => {
      const things = names('mw', 30);
      await seedGroup(t, 'mw-fleet', things);
      const open = new Date(Math.ceil((t.clock.now() + 40 * MINUTE) / MINUTE) * MINUTE);
      await t.iot.send(new CreateJobCommand({
        jobId: 'mw-fc', targets: [groupArn('mw-fleet')], document: '{}', targetSelection: 'CONTINUOUS',
        jobExecutionsRolloutConfig: { maximumPerMinute: 5 },
        schedulingConfig: { maintenanceWindows: [{ startTime: `cron(${open.getUTCMinutes()} ${open.getUTCHours()} * * ? *)`, durationInMinutes: 3 }] },
      }));
      const predicted = (await forecast('mw-fc')).releases.map((r) => r.expectedAt);
      // 5 a minute for 3 minutes a day: 15 on the first day, 15 on the next.
      assert.equal(predicted[4], new Date(open.getTime() + 2 * MINUTE).toISOString());
      assert.equal(predicted[5], new Date(open.getTime() + 24 * 60 * MINUTE).toISOString());
      await t.advance(2 * 24 * 60 * MINUTE);
      assert.deepEqual(await actualReleases('mw-fc', 30), predicted);
    });

    it('says null for what a cancelled job will never release, and 404 for an unknown job', async () => {
      await seedGroup(t, 'cx-fleet', names('cx', 30));
      await t.iot.send(new CreateJobCommand({ jobId: 'cx-fc', targets: [groupArn('cx-fleet')], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 10 } }));
      await t.iot.send(new CancelJobCommand({ jobId: 'cx-fc' }));
      const f = await forecast('cx-fc');
      assert.deepEqual(f.releases.map((r) => r.expectedAt !== null), [true, true, true, false, false, false, false, false, false, false]);
      assert.equal(f.expectedRolloutEnd, null);
      const missing = await sendSigned(t.url, { method: 'GET', path: '/_fleetjobs/jobs/no-such-job/forecast' });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers['x-amzn-errortype'], 'ResourceNotFoundException');
    });

    it('prints the forecast with fleetjobs forecast, as a table or as the JSON', async () => {
      const run = (...args: string[]) => new Promise<{ code: number; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [...fleetjobsCommand(), 'forecast', ...args], {
          cwd: REPO,
          env: { PATH: process.env.PATH ?? '', AWS_ENDPOINT_URL: t.url, AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, out }));
      });
      const expected = await forecast('fc');
      const json = await run('fc', '--json');
      assert.equal(json.code, 0, json.out);
      assert.deepEqual((JSON.parse(json.out) as Forecast).releases, expected.releases);
      const table = await run('fc');
      assert.equal(table.code, 0, table.out);
      assert.match(table.out, /^Rollout forecast for job fc/);
      assert.match(table.out, new RegExp(`100%   ${expected.releases[9].expectedAt!.replace(/\./g, '\\.')}`));
      const missing = await run('nope');
      assert.equal(missing.code, 1);
      assert.match(missing.out, /ResourceNotFoundException/);
    });
  });
}
