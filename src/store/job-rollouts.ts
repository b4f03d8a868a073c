import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database, Dialect } from './schema.js';
import { targetThings, type FanOutTarget } from './target-things.js';

declare module './schema.js' {
  interface Database {
    job_rollouts: JobRolloutRow;
    job_rollout_queue: { job_id: string; seq: number; thing_name: string; position: number };
  }
}

/** The rollout engine's state of one job (migration 0009). */
export interface JobRolloutRow {
  job_id: string;
  /** Queue entries written (the last queue seq). */
  total: number;
  /** The release cursor: every queue entry up to this seq has been released (or skipped). */
  released: number;
  /** Executions the releases created (the ramp's "notified things"). */
  notified: number;
  /** JSON [[atMs, count], …]: releases of the last 60 s. */
  release_window: string | null;
  /** JSON [[atMs, releasedSoFar], …]: one entry per tick that released anything (the forecast's past). */
  release_log: string | null;
  stopped: number;
  cancel_pending: number;
  cancel_force: number;
  due_at: number | null;
}

/** The shape of an execution the engine creates, as the domain's state machine defines it. */
export interface NewExecutionShape {
  status: string;
  versionNumber: number;
  /** Statuses in which a thing already has the job pending: such a thing is not released again. */
  pendingStatuses: readonly string[];
}

export class JobRolloutStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(jobId: string): Promise<JobRolloutRow | undefined> {
    return this.db.selectFrom('job_rollouts').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  }

  async getMany(jobIds: string[]): Promise<Map<string, JobRolloutRow>> {
    if (jobIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('job_rollouts').selectAll().where('job_id', 'in', jobIds).execute();
    return new Map(rows.map((r) => [r.job_id, r]));
  }

  /** Locked on PostgreSQL until the transaction ends (the engine's work on one job). */
  getForUpdate(jobId: string): Promise<JobRolloutRow | undefined> {
    let q = this.db.selectFrom('job_rollouts').selectAll().where('job_id', '=', jobId);
    if (this.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  async insert(row: JobRolloutRow): Promise<void> {
    await this.db.insertInto('job_rollouts').values(row).execute();
  }

  async update(jobId: string, patch: Partial<Omit<JobRolloutRow, 'job_id'>>): Promise<void> {
    await this.db.updateTable('job_rollouts').set(patch).where('job_id', '=', jobId).execute();
  }

  /** Moves the release cursor only from where it was read; false when another node moved it first. */
  async advance(jobId: string, fromReleased: number, patch: Partial<Omit<JobRolloutRow, 'job_id'>>): Promise<boolean> {
    const r = await this.db.updateTable('job_rollouts').set(patch).where('job_id', '=', jobId).where('released', '=', fromReleased).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Asks the engine to look at the job no later than `at`. */
  async dueBy(jobId: string, at: number): Promise<void> {
    await this.db
      .updateTable('job_rollouts')
      .set({ due_at: at })
      .where('job_id', '=', jobId)
      .where((eb) => eb.or([eb('due_at', 'is', null), eb('due_at', '>', at)]))
      .execute();
  }

  async delete(jobId: string): Promise<void> {
    await this.db.deleteFrom('job_rollout_queue').where('job_id', '=', jobId).execute();
    await this.db.deleteFrom('job_rollouts').where('job_id', '=', jobId).execute();
  }

  /**
   * Appends to a job's queue every thing the targets reach, numbered `afterSeq + 1 …` in target
   * order (then name), skipping things already queued for the job or (`skipExisting`) with an
   * execution of it. One INSERT … SELECT. Returns how many were queued and the last seq of each
   * target position that got any.
   */
  async enqueue(input: { jobId: string; targets: FanOutTarget[]; afterSeq: number; skipExisting: boolean }): Promise<{ queued: number; lastSeqByPosition: Map<number, number> }> {
    const things = targetThings(input.targets);
    if (!things) return { queued: 0, lastSeqByPosition: new Map() };
    // The dedupe and numbering sort every target thing once; keep that sort in memory (PostgreSQL's
    // 4 MB default spills 100,000 names to disk). SET LOCAL ends with the caller's transaction.
    if (this.dialect === 'postgres') await sql`set local work_mem = '64MB'`.execute(this.db);
    const order = input.targets.length === 1 ? sql`c.thing_name` : sql`c.pos, c.thing_name`;
    const skipExisting = input.skipExisting
      ? sql`and not exists (select 1 from job_executions e where e.job_id = ${input.jobId} and e.thing_name = c.thing_name)`
      : sql``;
    const result = await sql`
      insert into job_rollout_queue (job_id, seq, thing_name, position)
      select cast(${input.jobId} as text), cast(${input.afterSeq} as integer) + row_number() over (order by ${order}), c.thing_name, c.pos
      from (${things}) c
      where not exists (select 1 from job_rollout_queue q where q.job_id = ${input.jobId} and q.thing_name = c.thing_name) ${skipExisting}`.execute(this.db);
    const queued = Number(result.numAffectedRows ?? 0n);
    const lastSeqByPosition = new Map<number, number>();
    if (queued > 0) {
      const rows = await this.db
        .selectFrom('job_rollout_queue')
        .select(['position', (eb) => eb.fn.max('seq').as('last')])
        .where('job_id', '=', input.jobId)
        .where('seq', '>', input.afterSeq)
        .groupBy('position')
        .execute();
      for (const r of rows) lastSeqByPosition.set(Number(r.position), Number(r.last));
    }
    return { queued, lastSeqByPosition };
  }

  /**
   * Releases the queue entries `fromSeq < seq ≤ toSeq`: one new execution per thing that still
   * exists and has no pending execution of the job, numbered after its previous ones, its
   * queue_seq from `queueSeq`. One INSERT … SELECT; returns how many were created and the lowest
   * queue_seq among them.
   */
  async release(input: { jobId: string; namespaceId: string; fromSeq: number; toSeq: number; now: number; shape: NewExecutionShape; queueSeq: (order: RawBuilder<unknown>) => RawBuilder<unknown> }): Promise<{ created: number; firstQueueSeq?: number }> {
    const pending = sql.join(input.shape.pendingStatuses.map((s) => sql`${s}`));
    const result = await sql<{ queue_seq: number }>`
      insert into job_executions
        (job_id, thing_name, execution_number, namespace_id, status, queue_seq, queued_at, last_updated_at, version_number, force_canceled, retry_attempt)
      select q.job_id, q.thing_name,
             coalesce((select max(e.execution_number) from job_executions e where e.job_id = q.job_id and e.thing_name = q.thing_name), 0) + 1,
             cast(${input.namespaceId} as text), cast(${input.shape.status} as text),
             ${input.queueSeq(sql`q.seq`)},
             cast(${input.now} as bigint), cast(${input.now} as bigint), cast(${input.shape.versionNumber} as integer), 0, 0
      from job_rollout_queue q
      where q.job_id = ${input.jobId} and q.seq > ${input.fromSeq} and q.seq <= ${input.toSeq}
        and exists (select 1 from things t where t.thing_name = q.thing_name)
        -- A thing's pending execution of a job is always its latest: one primary-key probe per
        -- entry (an anti-join on the by-status index degrades as the job's executions grow).
        and coalesce((select l.status from job_executions l where l.job_id = q.job_id and l.thing_name = q.thing_name
                      order by l.execution_number desc limit 1), '') not in (${pending})
      returning queue_seq`.execute(this.db);
    const seqs = result.rows.map((r) => Number(r.queue_seq));
    return { created: seqs.length, ...(seqs.length > 0 ? { firstQueueSeq: Math.min(...seqs) } : {}) };
  }

  /** Queue entries of `thingNames` not released yet are dropped (they left a CONTINUOUS job's groups). */
  async dropUnreleased(jobId: string, releasedUpTo: number, thingNames: string[]): Promise<void> {
    if (thingNames.length === 0) return;
    await this.db.deleteFrom('job_rollout_queue').where('job_id', '=', jobId).where('seq', '>', releasedUpTo).where('thing_name', 'in', thingNames).execute();
  }

  /** Whether the job still has a queue entry after `seq` (skipped entries leave gaps in the seqs). */
  async hasEntriesAfter(jobId: string, seq: number): Promise<boolean> {
    const row = await this.db.selectFrom('job_rollout_queue').select('seq').where('job_id', '=', jobId).where('seq', '>', seq).orderBy('seq').limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Claims up to `limit` jobs whose engine work is due: their `due_at` moves to `leaseUntil`, so
   * no other node takes them until this one is done or its lease lapses. PostgreSQL skips rows
   * another node is claiming; SQLite has one writer.
   */
  async claimDue(now: number, leaseUntil: number, limit: number): Promise<string[]> {
    const due = this.db.selectFrom('job_rollouts').select('job_id').where('due_at', '<=', now).orderBy('due_at').limit(limit);
    const ids = this.dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
    const rows = await this.db.updateTable('job_rollouts').set({ due_at: leaseUntil }).where('job_id', 'in', ids).returning('job_id').execute();
    return rows.map((r) => r.job_id);
  }

  /** The earliest due time of any job's engine work. */
  async nextDueAt(): Promise<number | undefined> {
    const row = await this.db.selectFrom('job_rollouts').select((eb) => eb.fn.min('due_at').as('at')).executeTakeFirst();
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at);
  }
}
