/**
 * Job fan-out benchmark: CreateJob on a thing group of N things (default 100,000), on SQLite and
 * on PostgreSQL, each in its own process so peak RSS is that backend's alone.
 *
 *   npm run bench:fanout                       both backends (PostgreSQL skipped if unreachable)
 *   npm run bench:fanout -- --backend sqlite   one backend
 *   FANOUT_THINGS=20000 npm run bench:fanout   another size
 *
 * Prints: seeding time, CreateJob time (the executions are written in CreateJob's transaction, so
 * when it answers every execution exists — checked by counting them), peak RSS around CreateJob,
 * then ListJobExecutionsForJob paging through all executions (pages of 250).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateJobCommand, CreateThingGroupCommand, DescribeJobCommand, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import { sql } from 'kysely';
import { testBackends, type Backend } from '../test/support/backends.js';
import { ACCOUNT, REGION, startTestServer } from '../test/support/server.js';

const THINGS = Number(process.env.FANOUT_THINGS ?? 100_000);
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

async function run(backend: Backend): Promise<void> {
  const t = await startTestServer(backend);
  try {
    const db = t.server.store.db;
    await t.iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet' }));
    // Seed set-based, straight into the registry tables (not part of what is measured).
    let start = process.hrtime.bigint();
    const now = t.clock.now();
    if (backend.name === 'postgres') {
      await sql`insert into things (thing_name, thing_id, thing_type_name, billing_group_name, attributes, version, created_at)
        select 'thing-' || lpad(n::text, 6, '0'), md5(n::text), null, null, '{}', 1, ${now}::bigint from generate_series(1, ${THINGS}::int) n`.execute(db);
      await sql`insert into thing_group_members (group_name, thing_name, added_at)
        select 'fleet', 'thing-' || lpad(n::text, 6, '0'), ${now}::bigint from generate_series(1, ${THINGS}::int) n`.execute(db);
    } else {
      await sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${THINGS})
        insert into things (thing_name, thing_id, thing_type_name, billing_group_name, attributes, version, created_at)
        select 'thing-' || substr('000000' || n, -6, 6), hex(randomblob(16)), null, null, '{}', 1, ${now} from seq`.execute(db);
      await sql`insert into thing_group_members (group_name, thing_name, added_at) select 'fleet', thing_name, ${now} from things`.execute(db);
    }
    const seedMs = ms(start);

    const rssBefore = process.resourceUsage().maxRSS;
    start = process.hrtime.bigint();
    await t.iot.send(new CreateJobCommand({
      jobId: 'fanout',
      targets: [`arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/fleet`],
      document: '{"operation":"reboot"}',
    }));
    const createMs = ms(start);
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
    console.log(`[${backend.name}] CreateJob: ${createMs.toFixed(0)} ms; executions stored=${Number(stored.rows[0].n)}, numberOfQueuedThings=${job?.jobProcessDetails?.numberOfQueuedThings}`);
    console.log(`[${backend.name}] peak RSS: ${mb(rssBefore)} before CreateJob, ${mb(rssAfter)} after (process.resourceUsage().maxRSS)`);
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
