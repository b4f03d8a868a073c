import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { JobExecutionRow } from './job-executions.js';
import { ReusableQuery } from './reusable-query.js';
import type { Database, Dialect } from './schema.js';

/** IN_PROGRESS first, then QUEUED, each in queue order: a pending list's order. */
const pendingOrder = sql`case when job_executions.status = 'IN_PROGRESS' then 0 else 1 end`;

/** Leaves out QUEUED executions of jobs in `hidden` (an execution a device started stays in view). */
function visible(eb: ExpressionBuilder<Database, 'job_executions'>, hidden: readonly string[]) {
  return eb.or([
    eb('job_executions.status', '=', 'IN_PROGRESS'),
    eb.not(eb.exists(eb.selectFrom('jobs').select('jobs.job_id').whereRef('jobs.job_id', '=', 'job_executions.job_id').where('jobs.status', 'in', hidden))),
  ]);
}

/** Shape: the limit, then the hidden job statuses (each a constant of the statement). */
const pendingOfThing = new ReusableQuery<[string, string], JobExecutionRow>((db, [thingName, namespaceId], shape) => {
  const [limit, ...hidden] = shape.split(',');
  let q = db
    .selectFrom('job_executions')
    .selectAll('job_executions')
    .where('job_executions.thing_name', '=', thingName)
    .where('job_executions.namespace_id', '=', namespaceId)
    .where('job_executions.status', 'in', ['IN_PROGRESS', 'QUEUED'])
    .orderBy(pendingOrder)
    .orderBy('job_executions.queue_seq')
    .limit(Number(limit));
  if (hidden.length > 0) q = q.where((eb) => visible(eb, hidden));
  return q;
});

/** Whether an IN_PROGRESS execution of the thing was queued before `queue_seq`: one index probe, no row read. */
const inProgressAhead = new ReusableQuery<[string, string, number | string], { ahead: number }>((db, [thingName, namespaceId, queueSeq]) =>
  db
    .selectFrom('job_executions')
    .select(sql<number>`1`.as('ahead'))
    .where('job_executions.thing_name', '=', thingName)
    .where('job_executions.namespace_id', '=', namespaceId)
    .where('job_executions.status', '=', 'IN_PROGRESS')
    .where('job_executions.queue_seq', '<', queueSeq as number)
    .limit(1),
);

/**
 * Things' pending executions in one namespace (the pending list devices see is built on these),
 * served by the (thing, namespace, status, queue_seq) index: one thing on every device request,
 * many at once for the notifications of a burst.
 */
export class PendingListStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * A thing's pending executions in one namespace, IN_PROGRESS first, then QUEUED, each in queue
   * order: one index range (thing, namespace, status) per status, sorted in memory (a thing has
   * few). QUEUED executions of jobs in `hiddenJobStatuses` are left out.
   */
  async ofThing(thingName: string, namespaceId: string, limit: number, hiddenJobStatuses: readonly string[] = []): Promise<JobExecutionRow[]> {
    return (await pendingOfThing.run(this.db, this.dialect, [thingName, namespaceId], [limit, ...hiddenJobStatuses].join(','))).rows;
  }

  /**
   * Whether an IN_PROGRESS execution of the thing in the namespace was queued before `queueSeq`,
   * i.e. whether an IN_PROGRESS execution queued at `queueSeq` is not the front of the list (an
   * IN_PROGRESS execution is never hidden, and IN_PROGRESS ones come first, in queue order).
   */
  async inProgressAhead(thingName: string, namespaceId: string, queueSeq: number | string): Promise<boolean> {
    return (await inProgressAhead.run(this.db, this.dialect, [thingName, namespaceId, queueSeq])).rows.length > 0;
  }

  /**
   * `ofThing` for many things in one statement: at most `limit` executions each (a window over
   * each thing's rows, so a thing with thousands pending costs no more to send), grouped by thing
   * in list order. A thing with nothing pending is absent.
   */
  async ofThings(thingNames: string[], namespaceId: string, limit: number, hiddenJobStatuses: readonly string[] = []): Promise<Map<string, JobExecutionRow[]>> {
    const out = new Map<string, JobExecutionRow[]>();
    if (thingNames.length === 0) return out;
    let ranked = this.db
      .selectFrom('job_executions')
      .selectAll('job_executions')
      .select(sql<number>`row_number() over (partition by job_executions.thing_name order by ${pendingOrder}, job_executions.queue_seq)`.as('pending_rank'))
      .where('job_executions.thing_name', 'in', thingNames)
      .where('job_executions.namespace_id', '=', namespaceId)
      .where('job_executions.status', 'in', ['IN_PROGRESS', 'QUEUED']);
    if (hiddenJobStatuses.length > 0) ranked = ranked.where((eb) => visible(eb, hiddenJobStatuses));
    const rows = await this.db.selectFrom(ranked.as('p')).selectAll().where('p.pending_rank', '<=', limit).orderBy('p.thing_name').orderBy('p.pending_rank').execute();
    for (const { pending_rank: _rank, ...row } of rows) {
      const list = out.get(row.thing_name);
      if (list) list.push(row);
      else out.set(row.thing_name, [row]);
    }
    return out;
  }
}
