import { sql, type ExpressionBuilder, type Kysely, type RawBuilder } from 'kysely';
import { ReusableQuery } from './reusable-query.js';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    job_executions: JobExecutionRow;
    job_sequences: { name: string; value: number };
  }
}

export interface JobExecutionRow {
  job_id: string;
  thing_name: string;
  execution_number: number;
  namespace_id: string;
  status: string;
  queue_seq: number;
  queued_at: number;
  started_at: number | null;
  last_updated_at: number;
  version_number: number;
  /** JSON object of string → string, or null when never set. */
  status_details: string | null;
  force_canceled: number;
  retry_attempt: number;
  step_deadline_at: number | null;
  in_progress_deadline_at: number | null;
  timeout_at: number | null;
}

/** A set-based transition: the status executions move to, and what else it changes. */
export interface BulkPatch {
  status: string;
  bumpVersion: boolean;
  /** The step and in-progress timers end (the state machine's rule for leaving the pending set). */
  clearTimers: boolean;
  forceCanceled?: boolean;
  now: number;
}

/** The columns a set-based transition writes. */
function bulkSet(eb: ExpressionBuilder<Database, 'job_executions'>, patch: BulkPatch) {
  return {
    status: patch.status,
    last_updated_at: patch.now,
    ...(patch.clearTimers ? { step_deadline_at: null, in_progress_deadline_at: null, timeout_at: null } : {}),
    ...(patch.bumpVersion ? { version_number: eb('version_number', '+', 1) } : {}),
    ...(patch.forceCanceled ? { force_canceled: 1 } : {}),
  };
}

/** What a compare-and-set expects to find: the status and versionNumber the row was read with. */
export interface ExpectedState {
  status: string;
  versionNumber: number;
}

export interface ExecutionKey {
  jobId: string;
  thingName: string;
  executionNumber: number;
}

export type { FanOutTarget } from './target-things.js';

type Patch = Partial<Omit<JobExecutionRow, 'job_id' | 'thing_name' | 'execution_number'>>;

// The device path's statements on executions, compiled once (reusable-query.ts). Shape 'lock'
// adds FOR UPDATE on PostgreSQL, which locks the row until the transaction ends.
const forUpdate = <Q extends { forUpdate(): Q }>(q: Q, shape: string, dialect: Dialect) => (shape === 'lock' && dialect === 'postgres' ? q.forUpdate() : q);
const executionByKey = new ReusableQuery<[string, string, number], JobExecutionRow>((db, [jobId, thingName, executionNumber], shape, dialect) =>
  forUpdate(db.selectFrom('job_executions').selectAll().where('job_id', '=', jobId).where('thing_name', '=', thingName).where('execution_number', '=', executionNumber), shape, dialect));
const latestExecution = new ReusableQuery<[string, string], JobExecutionRow>((db, [jobId, thingName], shape, dialect) =>
  forUpdate(db.selectFrom('job_executions').selectAll().where('job_id', '=', jobId).where('thing_name', '=', thingName).orderBy('execution_number', 'desc').limit(1), shape, dialect));
/** Shape: the patched columns, in order; parameters: their values, then the key and the expected state. */
const executionCompareAndSet = new ReusableQuery<unknown[], never>((db, params, shape) => {
  const cols = shape.split(',');
  const [jobId, thingName, executionNumber, status, versionNumber] = params.slice(cols.length);
  return db
    .updateTable('job_executions')
    .set(Object.fromEntries(cols.map((c, i) => [c, params[i]])) as Patch)
    .where('job_id', '=', jobId as string)
    .where('thing_name', '=', thingName as string)
    .where('execution_number', '=', executionNumber as number)
    .where('status', '=', status as string)
    .where('version_number', '=', versionNumber as number);
});

export class JobExecutionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(key: ExecutionKey): Promise<JobExecutionRow | undefined> {
    return executionByKey.run(this.db, this.dialect, [key.jobId, key.thingName, key.executionNumber]).then((r) => r.rows[0]);
  }

  /** The execution with the highest executionNumber of a job on a thing. */
  latest(jobId: string, thingName: string): Promise<JobExecutionRow | undefined> {
    return latestExecution.run(this.db, this.dialect, [jobId, thingName]).then((r) => r.rows[0]);
  }

  /** Locks the execution row on PostgreSQL so concurrent updates of one execution serialize. */
  async lock(key: ExecutionKey): Promise<JobExecutionRow | undefined> {
    return (await executionByKey.run(this.db, this.dialect, [key.jobId, key.thingName, key.executionNumber], 'lock')).rows[0];
  }

  /** The latest execution of a job on a thing, locked like `lock` (one read instead of find-then-lock). */
  async lockLatest(jobId: string, thingName: string): Promise<JobExecutionRow | undefined> {
    return (await latestExecution.run(this.db, this.dialect, [jobId, thingName], 'lock')).rows[0];
  }

  /** False when the execution already exists (a concurrent writer created it first). */
  async insert(row: JobExecutionRow): Promise<boolean> {
    const result = await this.db
      .insertInto('job_executions')
      .values(row)
      .onConflict((oc) => oc.columns(['job_id', 'thing_name', 'execution_number']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /**
   * Writes `patch` only if the row still has the status and versionNumber it was read with (a
   * compare-and-set). False when another writer changed or deleted it first: nothing was written.
   * On PostgreSQL the update waits for a concurrent writer's row lock and then re-checks the
   * condition against the committed row.
   */
  async compareAndSet(key: ExecutionKey, expected: ExpectedState, patch: Patch): Promise<boolean> {
    const cols = Object.keys(patch).filter((c) => patch[c as keyof Patch] !== undefined);
    const params = [...cols.map((c) => patch[c as keyof Patch]), key.jobId, key.thingName, key.executionNumber, expected.status, expected.versionNumber];
    const result = await executionCompareAndSet.run(this.db, this.dialect, params, cols.join(','));
    return Number(result.numAffectedRows ?? 0n) === 1;
  }

  /** Deletes the row only if it is still as it was read (see compareAndSet). */
  async deleteIf(key: ExecutionKey, expected: ExpectedState): Promise<boolean> {
    const result = await this.db
      .deleteFrom('job_executions')
      .where('job_id', '=', key.jobId)
      .where('thing_name', '=', key.thingName)
      .where('execution_number', '=', key.executionNumber)
      .where('status', '=', expected.status)
      .where('version_number', '=', expected.versionNumber)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async deleteForJob(jobId: string): Promise<void> {
    await this.db.deleteFrom('job_executions').where('job_id', '=', jobId).execute();
  }

  /**
   * The next `queue_seq` (a thing's pending list and history are in this order). PostgreSQL draws
   * it from a sequence, which no transaction holds to its commit; SQLite keeps a counter row,
   * which its single writer serialises anyway.
   */
  async nextQueueSeq(): Promise<number> {
    return (await this.queueSeqSource(1)).next();
  }

  /**
   * Where the executions one statement creates take their `queue_seq`: on PostgreSQL the sequence
   * per row; on SQLite `max` numbers reserved on the counter row, handed out by row_number() in
   * `order`. Rows of one statement are each a different thing, so their order among themselves
   * does not matter.
   */
  async queueSeqSource(max: number): Promise<{ expression: (order: RawBuilder<unknown>) => RawBuilder<unknown>; next: () => Promise<number> }> {
    if (this.dialect === 'postgres') {
      return {
        expression: () => sql`nextval('job_queue_seq')`,
        next: async () => Number((await sql<{ v: number }>`select nextval('job_queue_seq') as v`.execute(this.db)).rows[0].v),
      };
    }
    const row = await this.db
      .updateTable('job_sequences')
      .set((eb) => ({ value: eb('value', '+', max) }))
      .where('name', '=', 'queue')
      .returning('value')
      .executeTakeFirstOrThrow();
    const base = Number(row.value) - max;
    return { expression: (order) => sql`cast(${base} as bigint) + row_number() over (order by ${order})`, next: async () => base + 1 };
  }

  /**
   * Refreshes the planner's statistics after a large fan-out. PostgreSQL's autovacuum gets to it
   * only later; until then it misjudges the table and pages a big job's executions by scanning and
   * sorting. SQLite's planner does well without statistics here.
   */
  async refreshStatistics(): Promise<void> {
    if (this.dialect === 'postgres') await sql`analyze job_executions`.execute(this.db);
  }

  /**
   * Moves every execution of a job in status `from` to `to` in one statement (CancelJob, abort,
   * endBehavior), timers cleared. With `skipLocked` (PostgreSQL), rows another transaction holds
   * are left out instead of waited for: for callers that already hold the job row, which a device
   * holding one of those rows may be waiting for. Returns how many moved.
   */
  async bulkTransition(jobId: string, from: string, patch: BulkPatch, opts: { skipLocked?: boolean } = {}): Promise<number> {
    let q = this.db
      .updateTable('job_executions')
      .set((eb) => bulkSet(eb, patch))
      .where('job_id', '=', jobId)
      .where('status', '=', from);
    if (opts.skipLocked && this.dialect === 'postgres') {
      q = q.where('thing_name', 'in', (eb) =>
        eb.selectFrom('job_executions as l').select('l.thing_name').where('l.job_id', '=', jobId).where('l.status', '=', from).forUpdate().skipLocked());
    }
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Moves up to `limit` executions in status `from` whose deadline (`timeout_at`) has passed to
   * `patch` (the timeout reconciler), earliest first, and returns them as they are now. A
   * compare-and-set like every transition (the status is part of the condition); on PostgreSQL
   * rows another node is moving are skipped, so two nodes never time out the same execution.
   */
  async timeOutDue(now: number, from: string, patch: BulkPatch, limit: number): Promise<JobExecutionRow[]> {
    let due = this.db
      .selectFrom('job_executions as d')
      .select(['d.job_id', 'd.thing_name', 'd.execution_number'])
      .where('d.timeout_at', '<=', now)
      .where('d.status', '=', from)
      .orderBy('d.timeout_at')
      .limit(limit);
    if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
    const keys = await due.execute();
    if (keys.length === 0) return [];
    return this.db
      .updateTable('job_executions')
      .set((eb) => bulkSet(eb, patch))
      .where('status', '=', from)
      .where((eb) => eb(eb.refTuple('job_id', 'thing_name', 'execution_number'), 'in', keys.map((k) => eb.tuple(k.job_id, k.thing_name, k.execution_number))))
      .returningAll()
      .execute();
  }

  /** Inserts new executions (retries) in one statement. */
  async insertMany(rows: JobExecutionRow[]): Promise<void> {
    if (rows.length > 0) await this.db.insertInto('job_executions').values(rows).execute();
  }

  /** The earliest running deadline of any execution (what the timeout reconciler waits for). */
  async nextTimeoutAt(): Promise<number | undefined> {
    const row = await this.db.selectFrom('job_executions').select((eb) => eb.fn.min('timeout_at').as('at')).where('timeout_at', 'is not', null).executeTakeFirst();
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at);
  }

  /**
   * One keyset page (by thing name, then executionNumber) of the executions of `jobId` in `status`,
   * each with whether it is the front of its thing's pending list (IN_PROGRESS first, then the
   * oldest QUEUED) — i.e. whether a change to it moves notify-next. Served by the by-status index.
   */
  async pendingThingsOfJob(
    jobId: string,
    status: string,
    after: { thingName: string; executionNumber: number } | undefined,
    limit: number,
  ): Promise<{ thingName: string; executionNumber: number; front: boolean }[]> {
    const cursor = after ? sql`and (e.thing_name, e.execution_number) > (${after.thingName}, ${after.executionNumber})` : sql``;
    const rows = await sql<{ thing_name: string; execution_number: number; front: number }>`
      select e.thing_name, e.execution_number,
        case when exists (
          select 1 from job_executions o
          where o.thing_name = e.thing_name and o.namespace_id = e.namespace_id and o.job_id <> e.job_id
            and (o.status = 'IN_PROGRESS' and (e.status <> 'IN_PROGRESS' or o.queue_seq < e.queue_seq)
                 or o.status = 'QUEUED' and e.status = 'QUEUED' and o.queue_seq < e.queue_seq)
        ) then 0 else 1 end as front
      from job_executions e
      where e.job_id = ${jobId} and e.status = ${status} ${cursor}
      order by e.thing_name, e.execution_number
      limit ${limit}`.execute(this.db);
    return rows.rows.map((r) => ({ thingName: r.thing_name, executionNumber: Number(r.execution_number), front: Number(r.front) === 1 }));
  }

  /**
   * Things with an execution of `jobId` in `status` numbered `fromQueueSeq` or above (the things a
   * release reached), one keyset page by thing name.
   */
  async thingsOfJobInStatus(jobId: string, status: string, fromQueueSeq: number, after: string | undefined, limit: number): Promise<string[]> {
    let q = this.db
      .selectFrom('job_executions')
      .select('thing_name')
      .where('job_id', '=', jobId)
      .where('status', '=', status)
      .where('queue_seq', '>=', fromQueueSeq)
      .orderBy('thing_name')
      .limit(limit);
    if (after !== undefined) q = q.where('thing_name', '>', after);
    return (await q.execute()).map((r) => r.thing_name);
  }

  /**
   * The QUEUED executions of `jobId` on any of `thingNames` (membership changes of CONTINUOUS jobs).
   * A thing has at most one pending execution of a job, and it is its latest.
   */
  queuedOfJobForThings(jobId: string, thingNames: string[]): Promise<JobExecutionRow[]> {
    if (thingNames.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('job_executions')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('status', '=', 'QUEUED')
      .where('thing_name', 'in', thingNames)
      .orderBy('thing_name')
      .orderBy('execution_number')
      .execute();
  }

  /** A job's executions by thing name, then executionNumber (keyset; served by the primary key or the by-status index). */
  listForJob(jobId: string, status: string | undefined, after: { thingName: string; executionNumber: number } | undefined, limit: number): Promise<JobExecutionRow[]> {
    let q = this.db
      .selectFrom('job_executions')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('thing_name')
      .orderBy('execution_number')
      .limit(limit);
    if (status !== undefined) q = q.where('status', '=', status);
    // A row-value comparison, so both databases seek the index to the cursor instead of filtering.
    if (after !== undefined) {
      q = q.where((eb) => eb(eb.refTuple('thing_name', 'execution_number'), '>', eb.tuple(after.thingName, after.executionNumber)));
    }
    return q.execute();
  }

  /** A thing's executions, newest first (keyset on queue_seq). */
  listForThing(
    thingName: string,
    filter: { status?: string; namespaceId?: string; jobId?: string },
    beforeSeq: number | undefined,
    limit: number,
  ): Promise<JobExecutionRow[]> {
    let q = this.db.selectFrom('job_executions').selectAll().where('thing_name', '=', thingName).orderBy('queue_seq', 'desc').limit(limit);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.namespaceId !== undefined) q = q.where('namespace_id', '=', filter.namespaceId);
    if (filter.jobId !== undefined) q = q.where('job_id', '=', filter.jobId);
    if (beforeSeq !== undefined) q = q.where('queue_seq', '<', beforeSeq);
    return q.execute();
  }

  /** How many executions of a job are in each status (what its counters must say). */
  async countByStatus(jobId: string): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('job_executions')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('job_id', '=', jobId)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Executions of a thing in the given statuses across all jobs (thing deletion). */
  ofThingInStatuses(thingName: string, statuses: readonly string[]): Promise<JobExecutionRow[]> {
    return this.db
      .selectFrom('job_executions')
      .selectAll()
      .where('thing_name', '=', thingName)
      .where('status', 'in', statuses)
      .orderBy('queue_seq')
      .execute();
  }
}
