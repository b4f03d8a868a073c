import { sql, type Kysely } from 'kysely';
import { ReusableQuery } from './reusable-query.js';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    jobs: JobRow;
    job_targets: JobTargetRow;
    job_counter_shards: { job_id: string; shard: number } & Record<CounterColumn, number>;
  }
}

/** Shards of a job's counters a single execution's change lands in (by thing name): decision 0014. */
export const COUNTER_SHARDS = 16;

export interface JobRow {
  job_id: string;
  namespace_id: string | null;
  status: string;
  target_selection: string;
  description: string | null;
  /** JSON array of the target ARNs, in request order. */
  targets: string;
  /** The document with parameter and package placeholders resolved (presigned URLs left as they are). */
  document: string | null;
  /** The document as given (or as read from documentSource / the template), before substitution. */
  raw_document: string | null;
  document_source: string | null;
  document_parameters: string | null;
  job_template_arn: string | null;
  presigned_url_config: string | null;
  rollout_config: string | null;
  abort_config: string | null;
  timeout_config: string | null;
  retry_config: string | null;
  scheduling_config: string | null;
  /** JSON DestinationPackageVersion[] (resolved version and the name as requested). */
  destination_package_versions: string | null;
  force_canceled: number;
  reason_code: string | null;
  comment: string | null;
  created_at: number;
  last_updated_at: number;
  completed_at: number | null;
  n_queued: number;
  n_in_progress: number;
  n_succeeded: number;
  n_failed: number;
  n_rejected: number;
  n_canceled: number;
  n_removed: number;
  n_timed_out: number;
}

export interface JobTargetRow {
  job_id: string;
  position: number;
  target_arn: string;
  target_type: 'thing' | 'thinggroup';
  target_name: string;
  target_id: string | null;
  /** The last rollout queue entry this target contributed (null: none, or created before the engine). */
  last_seq: number | null;
}

/** The counter column of each execution status; only the store knows the columns. */
export const COUNTER_COLUMN = {
  QUEUED: 'n_queued',
  IN_PROGRESS: 'n_in_progress',
  SUCCEEDED: 'n_succeeded',
  FAILED: 'n_failed',
  REJECTED: 'n_rejected',
  CANCELED: 'n_canceled',
  REMOVED: 'n_removed',
  TIMED_OUT: 'n_timed_out',
} as const;
type CounterColumn = (typeof COUNTER_COLUMN)[keyof typeof COUNTER_COLUMN];
/** An execution status as the counters know it (the same names as the domain's JobExecutionStatus). */
export type CountedExecutionStatus = keyof typeof COUNTER_COLUMN;

/** The shard of a thing's changes: stable, and spread evenly over the shards (FNV-1a). */
function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % COUNTER_SHARDS;
}

/** The device path's statements on jobs, compiled once (reusable-query.ts). */
const jobById = new ReusableQuery<[string], JobRow>((db, [jobId]) => db.selectFrom('jobs').selectAll().where('job_id', '=', jobId));
const jobLock = new ReusableQuery<[string], { job_id: string }>((db, [jobId]) => db.selectFrom('jobs').select('job_id').where('job_id', '=', jobId).forUpdate());
/** COMPLETED if still IN_PROGRESS with nothing pending in its row and shards (one statement). */
const completeWhenDone = new ReusableQuery<[string, number], never>((db, [jobId, now]) =>
  db
    .updateTable('jobs')
    .set({ status: 'COMPLETED', completed_at: now, last_updated_at: now })
    .where('job_id', '=', jobId)
    .where('status', '=', 'IN_PROGRESS')
    .where((eb) => eb(eb(eb(eb.ref('n_queued'), '+', eb.ref('n_in_progress')), '+', sql<number>`(select coalesce(sum(s.n_queued + s.n_in_progress), 0) from job_counter_shards s where s.job_id = ${jobId})`), '=', 0)));
const pendingOfJob = new ReusableQuery<[string], { n: number }>(
  (_db, [jobId]) => sql<{ n: number }>`
    select j.n_queued + j.n_in_progress + coalesce((select sum(s.n_queued + s.n_in_progress) from job_counter_shards s where s.job_id = j.job_id), 0) as n
    from jobs j where j.job_id = ${jobId}`,
);
const shardUpsert = new ReusableQuery<(string | number)[], never>((db, [jobId, shard, ...deltas], shape) => {
  const cols = shape.split(',') as CounterColumn[];
  return db
    .insertInto('job_counter_shards')
    .values({ job_id: jobId, shard, ...Object.fromEntries(cols.map((c, i) => [c, deltas[i]])) } as never)
    .onConflict((oc) => oc.columns(['job_id', 'shard']).doUpdateSet((eb) => Object.fromEntries(cols.map((c, i) => [c, eb(sql.ref(`job_counter_shards.${c}`), '+', deltas[cols.length + i])])) as never));
});

export interface JobListFilter {
  status?: string;
  targetSelection?: string;
  thingGroupName?: string;
  thingGroupId?: string;
  namespaceId?: string;
}

export class JobStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * A job, its counters being its row's columns plus the sum of its shards. A caller that reads no
   * counters (a device's update needs the job's settings only) passes `{ counters: false }` and
   * saves the sum; the counter columns then hold the row's part alone.
   */
  async get(jobId: string, opts: { counters?: boolean } = {}): Promise<JobRow | undefined> {
    const row = (await jobById.run(this.db, this.dialect, [jobId])).rows[0];
    return row && opts.counters !== false ? this.withShards(row) : row;
  }

  /** QUEUED + IN_PROGRESS executions of a job as this statement sees them (row and shards). */
  async pendingCount(jobId: string): Promise<number | undefined> {
    const row = await pendingOfJob.run(this.db, this.dialect, [jobId]);
    return row.rows.length === 0 ? undefined : Number(row.rows[0].n);
  }

  /** Reads the job and, on PostgreSQL, locks its row until the transaction ends (not its shards). */
  async getForUpdate(jobId: string): Promise<JobRow | undefined> {
    let q = this.db.selectFrom('jobs').selectAll().where('job_id', '=', jobId);
    if (this.dialect === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row && this.withShards(row);
  }

  /**
   * Locks the job row until the transaction ends, reading nothing (the completion check's wait for
   * the other last executions). SQLite's one writer holds every row for its transaction already.
   */
  async lock(jobId: string): Promise<void> {
    if (this.dialect === 'postgres') await jobLock.run(this.db, this.dialect, [jobId]);
  }

  private async withShards(row: JobRow): Promise<JobRow> {
    const cols = Object.values(COUNTER_COLUMN);
    const sums = await this.db
      .selectFrom('job_counter_shards')
      .select(cols.map((c) => sql<number>`coalesce(sum(${sql.ref(c)}), 0)`.as(c)))
      .where('job_id', '=', row.job_id)
      .executeTakeFirst();
    if (!sums) return row;
    const out = { ...row };
    for (const c of cols) out[c] = Number(row[c]) + Number((sums as Record<string, unknown>)[c] ?? 0);
    return out;
  }

  /** False when a job with this id already exists (a concurrent CreateJob won). */
  async insert(row: JobRow, targets: JobTargetRow[]): Promise<boolean> {
    const result = await this.db.insertInto('jobs').values(row).onConflict((oc) => oc.column('job_id').doNothing()).executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
    if (targets.length > 0) await this.db.insertInto('job_targets').values(targets).execute();
    return true;
  }

  /** Records the last rollout queue entry each target position contributed. */
  async setTargetLastSeqs(jobId: string, lastSeqByPosition: Map<number, number>): Promise<void> {
    for (const [position, last] of lastSeqByPosition) {
      await this.db.updateTable('job_targets').set({ last_seq: last }).where('job_id', '=', jobId).where('position', '=', position).execute();
    }
  }

  async addTargets(targets: JobTargetRow[]): Promise<void> {
    if (targets.length > 0) await this.db.insertInto('job_targets').values(targets).execute();
  }

  async update(jobId: string, patch: Partial<Omit<JobRow, 'job_id'>>): Promise<void> {
    await this.db.updateTable('jobs').set(patch).where('job_id', '=', jobId).execute();
  }

  /**
   * Moves `delta` executions between counters in one statement (keyed by execution status, e.g.
   * `{ QUEUED: -1, IN_PROGRESS: 1 }`). With a `shardKey` (a single execution's change, keyed by its
   * thing) the delta lands in one of COUNTER_SHARDS shard rows, so devices of one job do not wait
   * for each other; without one (set-based changes, which hold the job row anyway) in the job row.
   */
  async adjustCounters(jobId: string, delta: Partial<Record<CountedExecutionStatus, number>>, shardKey?: string): Promise<void> {
    const byColumn = new Map<CounterColumn, number>();
    for (const [status, n] of Object.entries(delta)) {
      if (n === undefined || n === 0) continue;
      if (!Object.hasOwn(COUNTER_COLUMN, status)) throw new Error(`no job counter for execution status ${status}`);
      const col = COUNTER_COLUMN[status as CountedExecutionStatus];
      byColumn.set(col, (byColumn.get(col) ?? 0) + n);
    }
    const entries = [...byColumn].filter(([, n]) => n !== 0);
    if (entries.length === 0) return;
    if (shardKey !== undefined) {
      const deltas = entries.map(([, n]) => n);
      await shardUpsert.run(this.db, this.dialect, [jobId, shardOf(shardKey), ...deltas, ...deltas], entries.map(([col]) => col).join(','));
      return;
    }
    await this.db
      .updateTable('jobs')
      .set((eb) => Object.fromEntries(entries.map(([col, n]) => [col, eb(col, '+', n)])))
      .where('job_id', '=', jobId)
      .execute();
  }

  /** Job ids in order, one keyset page after `after`. */
  idsAfter(after: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('jobs').select('job_id').orderBy('job_id').limit(limit);
    if (after !== undefined) q = q.where('job_id', '>', after);
    return q.execute().then((rows) => rows.map((r) => r.job_id));
  }

  /**
   * The job becomes COMPLETED if it is still IN_PROGRESS and nothing is pending (its QUEUED and
   * IN_PROGRESS counters are 0), in one conditional statement; true when this call completed it.
   * Whether the job may complete at all is the job lifecycle's rule (domain/jobs/job-lifecycle.ts).
   */
  async completeWhenNothingPending(jobId: string, now: number): Promise<boolean> {
    const result = await completeWhenDone.run(this.db, this.dialect, [jobId, now]);
    return Number(result.numAffectedRows ?? 0n) > 0;
  }

  /**
   * Sets a job's counters so that, with its shards, they equal `counts` (fleetjobs check --repair):
   * the row takes `counts − shards`, both read in the caller's snapshot.
   */
  async setCountersWithShards(jobId: string, counts: Partial<Record<CountedExecutionStatus, number>>): Promise<void> {
    const row = await this.db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
    if (!row) return;
    const merged = await this.withShards(row);
    const values = Object.fromEntries(
      Object.entries(COUNTER_COLUMN).map(([status, col]) => [col, (counts[status as CountedExecutionStatus] ?? 0) - (Number(merged[col]) - Number(row[col]))]),
    );
    await this.db.updateTable('jobs').set(values).where('job_id', '=', jobId).execute();
  }

  async delete(jobId: string): Promise<void> {
    await this.db.deleteFrom('job_counter_shards').where('job_id', '=', jobId).execute();
    await this.db.deleteFrom('job_targets').where('job_id', '=', jobId).execute();
    await this.db.deleteFrom('jobs').where('job_id', '=', jobId).execute();
  }

  targets(jobId: string): Promise<JobTargetRow[]> {
    return this.db.selectFrom('job_targets').selectAll().where('job_id', '=', jobId).orderBy('position').execute();
  }

  countByStatus(status: string): Promise<number> {
    return this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', status)
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  }

  /** Jobs in one of `statuses` that deploy package versions, with their destinations (JSON). */
  withDestinationsInStatus(statuses: string[]): Promise<{ job_id: string; destination_package_versions: string }[]> {
    return this.db
      .selectFrom('jobs')
      .select(['job_id', 'destination_package_versions'])
      .where('status', 'in', statuses)
      .where('destination_package_versions', 'is not', null)
      .execute() as Promise<{ job_id: string; destination_package_versions: string }[]>;
  }

  /** Jobs in `status` whose last change is older than `before` (left there by a node that died). */
  idsInStatusSince(status: string, before: number): Promise<string[]> {
    return this.db.selectFrom('jobs').select('job_id').where('status', '=', status).where('last_updated_at', '<', before).execute().then((rows) => rows.map((r) => r.job_id));
  }

  idsByStatus(status: string): Promise<string[]> {
    return this.db.selectFrom('jobs').select('job_id').where('status', '=', status).execute().then((rows) => rows.map((r) => r.job_id));
  }

  /** Newest first; keyset on (created_at, job_id) descending. */
  list(filter: JobListFilter, before: { createdAt: number; jobId: string } | undefined, limit: number): Promise<JobRow[]> {
    let q = this.db.selectFrom('jobs').selectAll().orderBy('created_at', 'desc').orderBy('job_id', 'desc').limit(limit);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.targetSelection) q = q.where('target_selection', '=', filter.targetSelection);
    if (filter.namespaceId !== undefined) q = q.where('namespace_id', '=', filter.namespaceId);
    // A job targets a group when one of its job_targets rows names it (by name or by id).
    const targetsGroup = (column: 'target_name' | 'target_id', value: string) =>
      q.where((eb) =>
        eb.exists(
          eb.selectFrom('job_targets').select('job_targets.job_id')
            .whereRef('job_targets.job_id', '=', 'jobs.job_id')
            .where('job_targets.target_type', '=', 'thinggroup')
            .where(`job_targets.${column}`, '=', value),
        ),
      );
    if (filter.thingGroupName !== undefined) q = targetsGroup('target_name', filter.thingGroupName);
    if (filter.thingGroupId !== undefined) q = targetsGroup('target_id', filter.thingGroupId);
    if (before) {
      q = q.where((eb) => eb(eb.refTuple('created_at', 'job_id'), '<', eb.tuple(before.createdAt, before.jobId)));
    }
    return q.execute();
  }

  /** The first thing-group target id of each job (JobSummary.thingGroupId). */
  async firstGroupIds(jobIds: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (jobIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('job_targets')
      .select(['job_id', 'target_id', 'position'])
      .where('job_id', 'in', jobIds)
      .where('target_type', '=', 'thinggroup')
      .orderBy('position')
      .execute();
    for (const r of rows) if (r.target_id !== null && !out.has(r.job_id)) out.set(r.job_id, r.target_id);
    return out;
  }

  /** IN_PROGRESS CONTINUOUS jobs that target any of the given thing groups directly. */
  async continuousJobsTargetingGroups(groupNames: string[]): Promise<{ job_id: string; namespace_id: string | null }[]> {
    if (groupNames.length === 0) return [];
    // Raw SQL: every membership change asks this (a dynamic group's members change with their
    // shadows), and building the query cost more than running it.
    const r = await sql<{ job_id: string; namespace_id: string | null }>`select distinct j.job_id, j.namespace_id from job_targets t
      join jobs j on j.job_id = t.job_id
      where t.target_type = 'thinggroup' and t.target_name in (${sql.join(groupNames)}) and j.status = 'IN_PROGRESS' and j.target_selection = 'CONTINUOUS'
      order by j.job_id`.execute(this.db);
    return r.rows;
  }
}
