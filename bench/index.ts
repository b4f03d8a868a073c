/**
 * Fleet-indexing benchmark (issue 12): 100,000 things with attributes, a thing group each and a
 * `$package` shadow of 3 packages, on SQLite and on PostgreSQL, each in its own process.
 *
 *   npm run bench:index                        both backends (PostgreSQL skipped if unreachable)
 *   npm run bench:index -- --backend sqlite    one backend
 *   INDEX_THINGS=20000 npm run bench:index     another size
 *
 * The registry and the shadows are seeded set-based straight into their tables (seeding is not what
 * is measured); then UpdateIndexingConfiguration turns indexing on and the build (every shadow's
 * index rows, decision 0025) runs to ACTIVE: that is the build time. Then SearchIndex, through the
 * SDK over HTTP, one request at a time: p50 / p99 of an equality, a wildcard, a range and a
 * compound query, and of a broad equality (every third thing matches; the first page of 100).
 * Then dynamic thing groups (bench/index-dynamic.ts): shadow updates per second with 20 dynamic
 * groups against none, their sweep, and a `$package` change moving a thing between two groups.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DescribeIndexCommand, SearchIndexCommand, UpdateIndexingConfigurationCommand } from '@aws-sdk/client-iot';
import { sql } from 'kysely';
import { testBackends, type Backend } from '../test/support/backends.js';
import { startTestServer, type TestServer } from '../test/support/server.js';
import { measureDynamicGroups } from './index-dynamic.js';

const THINGS = Number(process.env.INDEX_THINGS ?? 100_000);
const RUNS = Number(process.env.INDEX_RUNS ?? 200);
const GROUPS = 20;
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
const pad = (n: number) => String(n).padStart(6, '0');

export async function seed(t: TestServer, backend: Backend): Promise<void> {
  const db = t.server.store.db;
  const now = t.clock.now();
  // dev-000001 …: attributes serial (unique), temp (0–99), model (5 values); group g-(n % 20);
  // $package: agent 2.0.(n % 3), fw 1.(n % 7).0, ssm 3.(n % 2).1.
  const seq = backend.name === 'postgres'
    ? sql`(select n, lpad(n::text, 6, '0') as p from generate_series(1, ${THINGS}::int) n)`
    : sql`(with recursive s(n) as (select 1 union all select n + 1 from s where n < ${THINGS}) select n, substr('000000' || n, -6, 6) as p from s)`;
  const cat = (...parts: ReturnType<typeof sql>[]) => sql.join(parts, sql` || `);
  for (let g = 0; g < GROUPS; g++) {
    await sql`insert into thing_groups (group_name, group_id, parent_group_name, path, depth, description, attributes, version, created_at)
      values (${`g-${g}`}, ${`id-${g}`}, null, ${`/g-${g}/`}, 1, null, '{}', 1, ${now})`.execute(db);
  }
  const models = `case n % 5 when 0 then 'legacy' when 1 then 'x100' when 2 then 'x200' when 3 then 'x300' else 'x400' end`;
  await sql`insert into things (thing_name, thing_id, thing_type_name, billing_group_name, attributes, version, created_at)
    select 'dev-' || p, 'id-' || p, null, null,
      ${cat(sql`'{"serial":"SN'`, sql`p`, sql`'","temp":"'`, sql`cast(n % 100 as text)`, sql`'","model":"'`, sql.raw(models), sql`'"}'`)}, 1, ${now}
    from ${seq} x`.execute(db);
  await sql`insert into thing_attributes (thing_name, attr_name, attr_value, value_lower, value_num)
    select 'dev-' || p, 'serial', 'SN' || p, 'sn' || p, null from ${seq} x
    union all select 'dev-' || p, 'temp', cast(n % 100 as text), cast(n % 100 as text), n % 100 from ${seq} x
    union all select 'dev-' || p, 'model', ${sql.raw(models)}, ${sql.raw(models)}, null from ${seq} x`.execute(db);
  await sql`insert into thing_group_members (group_name, thing_name, added_at) select 'g-' || cast(n % ${sql.lit(GROUPS)} as text), 'dev-' || p, ${now} from ${seq} x`.execute(db);
  const doc = cat(
    sql`'{"state":{"reported":{"agent":{"version":"2.0.'`, sql`cast(n % 3 as text)`,
    sql`'"},"fw":{"version":"1.'`, sql`cast(n % 7 as text)`,
    sql`'.0"},"ssm":{"version":"3.'`, sql`cast(n % 2 as text)`, sql`'.1"}}}}'`,
  );
  await sql`insert into shadows (thing_name, shadow_name, document, version, updated_at, deleted_at)
    select 'dev-' || p, '$package', ${doc}, 1, ${now}, null from ${seq} x`.execute(db);
  if (backend.name === 'postgres') await sql`analyze`.execute(db);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(t: TestServer, label: string, query: (i: number) => string): Promise<string> {
  const times: number[] = [];
  let hits = 0;
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const r = await t.iot.send(new SearchIndexCommand({ queryString: query(i) }));
    times.push(ms(start));
    hits += r.things?.length ?? 0;
  }
  times.sort((a, b) => a - b);
  return `${label.padEnd(10)} p50 ${percentile(times, 50).toFixed(1)} ms  p99 ${percentile(times, 99).toFixed(1)} ms  (${(hits / RUNS).toFixed(1)} hits/page) e.g. ${query(7)}`;
}

async function run(backend: Backend): Promise<void> {
  const t = await startTestServer(backend);
  try {
    let start = process.hrtime.bigint();
    await seed(t, backend);
    const seedMs = ms(start);

    start = process.hrtime.bigint();
    await t.iot.send(new UpdateIndexingConfigurationCommand({
      thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON', filter: { namedShadowNames: ['$package'] } },
    }));
    for (;;) {
      await t.server.engine.step();
      if ((await t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' }))).indexStatus === 'ACTIVE') break;
    }
    const buildMs = ms(start);
    // What autovacuum's analyze does soon after a bulk change; without it the planner still thinks index_terms empty.
    if (backend.name === 'postgres') await sql`analyze`.execute(t.server.store.db);
    const terms = Number((await sql<{ n: number }>`select count(*) as n from index_terms`.execute(t.server.store.db)).rows[0].n);
    console.log(`[${backend.name}] things=${THINGS} (3 attributes, 1 of ${GROUPS} groups, $package with 3 packages) seeded in ${seedMs.toFixed(0)} ms`);
    console.log(`[${backend.name}] index build (UpdateIndexingConfiguration → ACTIVE): ${buildMs.toFixed(0)} ms, ${terms} index rows`);

    const n = (i: number) => pad(((i * 7919) % THINGS) + 1);
    const base: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      const s0 = process.hrtime.bigint();
      await t.iot.send(new DescribeIndexCommand({ indexName: 'AWS_Things' }));
      base.push(ms(s0));
    }
    base.sort((a, b) => a - b);
    console.log(`[${backend.name}] baseline (DescribeIndex, one row read): p50 ${percentile(base, 50).toFixed(1)} ms  p99 ${percentile(base, 99).toFixed(1)} ms`);
    const lines = [
      await measure(t, 'equality', (i) => `attributes.serial:SN${n(i)}`),
      await measure(t, 'name', (i) => `thingName:dev-${n(i)}`),
      await measure(t, 'wildcard', (i) => `thingName:dev-${n(i).slice(0, 5)}*`),
      await measure(t, 'range', (i) => `attributes.temp:[${i % 99} TO ${(i % 99) + 1}]`),
      await measure(t, 'compound', (i) => `thingGroupNames:g-${i % GROUPS} AND shadow.name.$package.reported.agent.version:2.0.${i % 3} AND NOT attributes.model:legacy`),
      await measure(t, 'broad', (i) => `shadow.name.$package.reported.agent.version:2.0.${i % 3}`),
    ];
    for (const l of lines) console.log(`[${backend.name}] SearchIndex ${l}`);
    await measureDynamicGroups(t, backend, THINGS);
  } finally {
    await t.close();
  }
}

const i = process.argv.indexOf('--backend');
if (process.env.INDEX_NO_MAIN) {
  // imported for its seed
} else if (i >= 0) {
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
