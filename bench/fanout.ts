/**
 * Job fan-out benchmark: CreateJob on a thing group of N things (default 100,000), on SQLite and
 * on PostgreSQL, each in its own process so peak RSS is that backend's alone. CreateJob queues
 * every target thing and releases the first 1,000 (AWS's rate); the rest are released by the
 * engine at 1,000 a minute, run here on the virtual clock.
 *
 *   npm run bench:fanout                       both backends (PostgreSQL skipped if unreachable)
 *   npm run bench:fanout -- --backend sqlite   one backend
 *   FANOUT_THINGS=20000 npm run bench:fanout   another size
 *
 * Prints: seeding time, CreateJob time (the queue and the first burst are written in CreateJob's
 * transaction), the time to release the rest (an engine step per virtual minute; every execution
 * exists afterwards — checked by counting them), peak RSS, then ListJobExecutionsForJob paging
 * through all executions (pages of 250).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateJobCommand, DescribeJobCommand, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import { sql } from 'kysely';
import { testBackends, type Backend } from '../test/support/backends.js';
import { ACCOUNT, REGION, startTestServer } from '../test/support/server.js';
import { seedFleet } from './seed-fleet.js';

const THINGS = Number(process.env.FANOUT_THINGS ?? 100_000);
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

async function run(backend: Backend): Promise<void> {
  const t = await startTestServer(backend);
  try {
    const db = t.server.store.db;
    let start = process.hrtime.bigint();
    await seedFleet(t, backend, 'fleet', 'thing', THINGS);
    const seedMs = ms(start);

    const rssBefore = process.resourceUsage().maxRSS;
    start = process.hrtime.bigint();
    await t.iot.send(new CreateJobCommand({
      jobId: 'fanout',
      targets: [`arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/fleet`],
      document: '{"operation":"reboot"}',
    }));
    const createMs = ms(start);
    const firstBurst = Number((await sql<{ n: number }>`select count(*) as n from job_executions where job_id = 'fanout'`.execute(db)).rows[0].n);
    start = process.hrtime.bigint();
    await t.advance(Math.ceil(THINGS / 1000) * 60_000);
    const releaseMs = ms(start);
    const rssAfter = process.resourceUsage().maxRSS;
    const stored = await sql<{ n: number }>`select count(*) as n from job_executions where job_id = 'fanout'`.execute(db);
    const { job } = await t.iot.send(new DescribeJobCommand({ jobId: 'fanout' }));

    start = process.hrtime.bigint();
    let pages = 0;
    let seen = 0;
    let nextToken: string | undefined;
    do {
      const out = await t.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'fanout', maxResults: 250, nextToken }));
      pages++;
      seen += out.executionSummaries?.length ?? 0;
      nextToken = out.nextToken;
    } while (nextToken);
    const listMs = ms(start);

    console.log(`[${backend.name}] things=${THINGS} seeded in ${seedMs.toFixed(0)} ms`);
    console.log(`[${backend.name}] CreateJob: ${createMs.toFixed(0)} ms (${THINGS} queued, ${firstBurst} released at once)`);
    console.log(`[${backend.name}] releasing the rest at 1,000 a minute on the virtual clock: ${releaseMs.toFixed(0)} ms; executions stored=${Number(stored.rows[0].n)}, numberOfQueuedThings=${job?.jobProcessDetails?.numberOfQueuedThings}`);
    console.log(`[${backend.name}] peak RSS: ${mb(rssBefore)} before CreateJob, ${mb(rssAfter)} after the release (process.resourceUsage().maxRSS)`);
    console.log(`[${backend.name}] ListJobExecutionsForJob: ${pages} pages of ≤250, ${seen} executions in ${listMs.toFixed(0)} ms (${(listMs / pages).toFixed(1)} ms/page)`);
    if (Number(stored.rows[0].n) !== THINGS || seen !== THINGS) throw new Error('fan-out incomplete');
  } finally {
    await t.close();
  }
}

const i = process.argv.indexOf('--backend');
if (i >= 0) {
  const name = process.argv[i + 1];
  const backend = (await testBackends()).find((b) => b.name === name);
  if (!backend) throw new Error(`unknown backend ${name}`);
  if (backend.skip) console.log(`[${name}] skipped: ${backend.skip}`);
  else await run(backend);
} else {
  const self = fileURLToPath(import.meta.url);
  for (const name of ['sqlite', 'postgres']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--backend', name], { stdio: 'inherit', env: { ...process.env, FLEETJOBS_TEST_BACKENDS: 'sqlite,postgres' } });
    if (r.status !== 0) process.exitCode = 1;
  }
}
