/**
 * bench:rollout — the rollout engine (issue 10), each part on SQLite and PostgreSQL, each backend in
 * a process of its own (peak RSS is that backend's alone):
 *
 * - `rollout`: a 100,000-thing job with maximumPerMinute=1000 and an exponentialRate, run to the end
 *   on the virtual clock. Simulated devices answer every release over the jobs data plane (HTTPS):
 *   most succeed, some fail (retried once), some hang and time out (retried once). Prints the wall
 *   time, the engine's CPU per 1,000 releases (engine steps only) and peak RSS.
 * - `latency`: release latency on the real clock, from the moment a job's next burst may be
 *   released to the moment its notify is published, with 60 jobs of 1,000-a-minute created one a
 *   second: 1,000 releases a second summed over the jobs. p50 and p99.
 * - `updates`: 10,000 devices of one job reporting SUCCEEDED at once (256 kept-alive connections,
 *   requests signed beforehand): device updates per second.
 *
 *   npm run bench:rollout [-- --part rollout,latency,updates --backend sqlite --things 100000]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateJobCommand, DescribeJobCommand } from '@aws-sdk/client-iot';
import { sql } from 'kysely';
import { systemClock } from '../src/clock.js';
import type { JobNotification } from '../src/domain/jobs/job-notifications.js';
import pg from 'pg';
import { POSTGRES_URL, testBackends, type Backend } from '../test/support/backends.js';
import { signHeaders } from '../test/support/raw-signed-http.js';
import { ACCOUNT, REGION, startTestServer, type TestServer } from '../test/support/server.js';
import { KeepAliveClient } from './keep-alive-client.js';
import { fleetThing, seedFleet } from './seed-fleet.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const PARTS = (args.get('part') ?? 'rollout,latency,updates').split(',');
const THINGS = Number(args.get('things') ?? 100_000);
const MINUTE = 60_000;
const groupArn = (g: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${g}`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Signed data-plane requests sent over a pool of kept-alive connections; the statuses, and the seconds the sending took (signing not counted). */
async function sendAll(t: TestServer, requests: { method: string; path: string; body?: string }[], connections: number): Promise<{ statuses: number[]; seconds: number }> {
  const url = new URL(t.url);
  const signed = await Promise.all(requests.map(async (r) => ({ ...r, headers: await signHeaders(t.url, { method: r.method, path: r.path, body: r.body }, { service: 'iot-jobs-data' }) })));
  const pool = await Promise.all(Array.from({ length: Math.min(connections, signed.length) }, () => KeepAliveClient.connect(url.hostname, Number(url.port))));
  const statuses: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(pool.map(async (c) => {
    while (next < signed.length) {
      const r = signed[next++];
      const res = await c.request(r.method, r.path, r.headers, r.body ?? '');
      statuses.push(res.status);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  for (const c of pool) c.close();
  return { statuses, seconds };
}

/** Executions of the job that are QUEUED, released since the last look (by queue_seq). */
async function newlyQueued(t: TestServer, jobId: string, afterSeq: number): Promise<{ thing: string; n: number; seq: number }[]> {
  const rows = await sql<{ thing_name: string; execution_number: number; queue_seq: number }>`
    select thing_name, execution_number, queue_seq from job_executions where job_id = ${jobId} and status = 'QUEUED' and queue_seq > ${afterSeq} order by queue_seq`.execute(t.server.store.db);
  return rows.rows.map((r) => ({ thing: r.thing_name, n: Number(r.execution_number), seq: Number(r.queue_seq) }));
}

async function rolloutPart(backend: Backend): Promise<void> {
  const t = await startTestServer(backend);
  try {
    await seedFleet(t, backend, 'fleet', 'dev', THINGS);
    const wallStart = performance.now();
    await t.iot.send(new CreateJobCommand({
      jobId: 'big', targets: [groupArn('fleet')], document: '{"op":"update"}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 1000, exponentialRate: { baseRatePerMinute: 100, incrementFactor: 2, rateIncreaseCriteria: { numberOfNotifiedThings: 1000 } } },
      timeoutConfig: { inProgressTimeoutInMinutes: 5 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 1 }] },
    }));
    let engineCpu = 0;
    let seen = 0;
    let minutes = 0;
    let requests = 0;
    for (;;) {
      const fresh = await newlyQueued(t, 'big', seen);
      if (fresh.length > 0) seen = fresh[fresh.length - 1].seq;
      // 90% succeed, 5% fail, 5% start and hang (they time out after 5 minutes); by thing number.
      const calls = fresh.map((e) => {
        const k = Number(e.thing.slice(-6)) % 20;
        const path = `/things/${e.thing}/jobs/big`;
        return k === 0 ? { method: 'PUT', path: `/things/${e.thing}/jobs/%24next`, body: '{}' }
          : { method: 'POST', path, body: JSON.stringify({ status: k === 1 ? 'FAILED' : 'SUCCEEDED', executionNumber: e.n }) };
      });
      requests += calls.length;
      if (calls.length > 0) await sendAll(t, calls, 64);
      const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'big' }));
      if (job?.status === 'COMPLETED') break;
      const cpu0 = process.cpuUsage();
      await t.advance(MINUTE);
      const cpu = process.cpuUsage(cpu0);
      engineCpu += (cpu.user + cpu.system) / 1000;
      minutes++;
      if (minutes > 1000) throw new Error('the rollout did not finish');
    }
    const wall = (performance.now() - wallStart) / 1000;
    const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'big' }));
    const d = job!.jobProcessDetails!;
    const released = Number((await sql<{ n: number }>`select notified as n from job_rollouts where job_id = 'big'`.execute(t.server.store.db)).rows[0].n);
    console.log(`[${backend.name}] rollout: ${THINGS} things, ${minutes} virtual minutes, ${requests} device requests, wall ${wall.toFixed(1)} s`);
    console.log(`[${backend.name}]   succeeded ${d.numberOfSucceededThings}, failed ${d.numberOfFailedThings}, timed out ${d.numberOfTimedOutThings}, released by the rollout ${released}`);
    console.log(`[${backend.name}]   engine CPU ${engineCpu.toFixed(0)} ms in all, ${(engineCpu / (released / 1000)).toFixed(1)} ms per 1,000 releases (timeouts and retries included); peak RSS ${mb(process.resourceUsage().maxRSS)}`);
  } finally {
    await t.close();
  }
}

async function latencyPart(backend: Backend): Promise<void> {
  const notified = new Map<string, number>();
  const jobNotifier = {
    publish(list: JobNotification[]) {
      const now = Date.now();
      for (const n of list) if (n.kind === 'fanOut' && n.fromQueueSeq > 0) notified.set(`${n.jobId}#${n.fromQueueSeq}`, now);
    },
  };
  const t = await startTestServer(backend, { clock: systemClock, jobNotifier });
  try {
    const JOBS = 60;
    await seedFleet(t, backend, 'lat', 'lat', 2000);
    const dues: { jobId: string; due: number }[] = [];
    for (let j = 0; j < JOBS; j++) {
      const started = Date.now();
      await t.iot.send(new CreateJobCommand({ jobId: `lat-${j}`, targets: [groupArn('lat')], document: '{}', jobExecutionsRolloutConfig: { maximumPerMinute: 1000 } }));
      const due = Number((await sql<{ d: number }>`select due_at as d from job_rollouts where job_id = ${`lat-${j}`}`.execute(t.server.store.db)).rows[0].d);
      dues.push({ jobId: `lat-${j}`, due });
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
    // Wait for every job's second burst.
    const deadline = Date.now() + 3 * MINUTE;
    const secondBurst = (jobId: string) => [...notified.entries()].filter(([k]) => k.startsWith(`${jobId}#`)).map(([, v]) => v).sort((a, b) => a - b)[1];
    while (Date.now() < deadline && dues.some((d) => secondBurst(d.jobId) === undefined)) await new Promise((r) => setTimeout(r, 250));
    const latencies: number[] = [];
    for (const d of dues) {
      const at = secondBurst(d.jobId);
      if (at === undefined) throw new Error(`job ${d.jobId} never released its second burst`);
      for (let i = 0; i < 1000; i++) latencies.push(at - d.due);
    }
    latencies.sort((a, b) => a - b);
    console.log(`[${backend.name}] release latency (${JOBS} jobs × 1,000 releases due over a minute ≈ 1,000/s): p50 ${pct(latencies, 0.5)} ms, p99 ${pct(latencies, 0.99)} ms, max ${latencies[latencies.length - 1]} ms`);
  } finally {
    await t.close();
  }
}

/** Samples how many PostgreSQL sessions wait on a lock (row locks of one hot row show up here). */
function lockWaitSampler(): { stop: () => Promise<{ mean: number; max: number }> } {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const r = await client.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`);
      samples.push(Number(r.rows[0].n));
      await new Promise((res) => setTimeout(res, 20));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { mean: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length), max: Math.max(0, ...samples) };
    },
  };
}

async function updatesPart(backend: Backend): Promise<void> {
  const t = await startTestServer(backend);
  try {
    const N = 10_000;
    await seedFleet(t, backend, 'upd', 'upd', N);
    await t.iot.send(new CreateJobCommand({ jobId: 'upd', targets: [groupArn('upd')], document: '{}' }));
    await t.advance(10 * MINUTE);
    const calls = Array.from({ length: N }, (_, i) => ({ method: 'POST', path: `/things/${fleetThing('upd', i + 1)}/jobs/upd`, body: '{"status":"SUCCEEDED"}' }));
    const sampler = backend.name === 'postgres' ? lockWaitSampler() : undefined;
    const cpu0 = process.cpuUsage();
    const { statuses, seconds } = await sendAll(t, calls, 256);
    const cpu = process.cpuUsage(cpu0);
    const nodeCpu = (cpu.user + cpu.system) / 1e6 / seconds;
    const lockWaits = await sampler?.stop();
    const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'upd' }));
    const failed = statuses.filter((s) => s !== 200).length;
    console.log(`[${backend.name}] device updates: ${N} devices of one job at once (256 connections): ${(N / seconds).toFixed(0)} updates/s (server and clients in this process: ${(nodeCpu * 100).toFixed(0)}% of a core), ${failed} not 200; job ${job?.status}, succeeded ${job?.jobProcessDetails?.numberOfSucceededThings}`);
    if (lockWaits) console.log(`[${backend.name}]   database sessions waiting on a lock, sampled every 20 ms: mean ${lockWaits.mean.toFixed(2)}, max ${lockWaits.max} (of 10 in the pool)`);
  } finally {
    await t.close();
  }
}

const backendArg = args.get('backend');
if (backendArg) {
  const backend = (await testBackends()).find((b) => b.name === backendArg);
  if (!backend) throw new Error(`unknown backend ${backendArg}`);
  if (backend.skip) console.log(`[${backendArg}] skipped: ${backend.skip}`);
  else {
    if (PARTS.includes('rollout')) await rolloutPart(backend);
    if (PARTS.includes('latency')) await latencyPart(backend);
    if (PARTS.includes('updates')) await updatesPart(backend);
  }
} else {
  const self = fileURLToPath(import.meta.url);
  for (const name of ['sqlite', 'postgres']) {
    for (const part of PARTS) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--backend', name, '--part', part, '--things', String(THINGS)], { stdio: 'inherit' });
      if (r.status !== 0) process.exitCode = 1;
    }
  }
}
