import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { PolicyChangeFeed } from '../domain/policies/policy-rules.js';
import type { Store } from '../store/store.js';
import type { Reconciler } from './engine.js';

/** Rows read per query; a full batch is read on at once. */
const BATCH = 1000;
/** Reads at most this often (a busy engine steps many times a second); "within about a second" is the promise. */
const READ_EVERY_MS = 200;
/** How long a row stays: far more than any node's read interval. */
export const POLICY_CHANGE_RETAIN_MS = 5 * 60_000;
/** How often a node prunes (idempotent, lease-free: every node may). */
const PRUNE_EVERY_MS = 30_000;
/** How long a seq skipped over is looked for again: a writer's transaction still open, or one rolled back. */
const GAP_MS = 60_000;
const MAX_GAPS = 10_000;

/**
 * Decision 0049: policy changes made through another instance on the same database reach this
 * one's live MQTT connections. Every change is a row of `policy_changes`, written in the change's
 * transaction (PolicyChangeFeed.record); each engine step (at least once a second) this reads the
 * rows past its cursor and tells the local feed of those another feed wrote, so the door re-binds
 * the connections concerned and DeviceAuthorization forgets whether anything is attached.
 *
 * A seq is taken when the row is written, not when it commits, so a later seq can be seen before
 * an earlier one: each seq skipped over is looked for again for GAP_MS. It starts at the newest
 * row, re-binding every connection once (what committed between the door's start and then), and
 * does the same when it has not read for half the retention (rows it never saw may be pruned).
 * Time here is real time, as the rows' `at` is: it is about nodes, not about domain time.
 */
export function policyChangeReconciler(deps: { store: Store; feed: PolicyChangeFeed; clock: Clock; log: Logger }): Reconciler {
  let cursor: number | undefined;
  let readAt = 0;
  let full = false;
  let pruneAt = 0;
  /** Seqs skipped over, with when they were first missed. */
  const gaps = new Map<number, number>();
  return {
    name: 'policy-changes',
    async run() {
      const now = deps.clock.now();
      if (now >= pruneAt) {
        pruneAt = now + PRUNE_EVERY_MS;
        await deps.store.policyChanges.prune(now - POLICY_CHANGE_RETAIN_MS);
      }
      if (cursor === undefined || now - readAt > POLICY_CHANGE_RETAIN_MS / 2) {
        if (cursor !== undefined) deps.log.warn({ lastReadMsAgo: now - readAt }, 'policy changes not read for long: every connection is bound again');
        cursor = await deps.store.policyChanges.maxSeq();
        gaps.clear();
        readAt = now;
        deps.feed.changed();
        return false;
      }
      if (!full && now - readAt < READ_EVERY_MS) return false;
      const rows = await deps.store.policyChanges.after(cursor, [...gaps.keys()], BATCH);
      readAt = now;
      full = rows.length === BATCH;
      let all = false;
      const things = new Set<string>();
      for (const r of rows) {
        if (r.seq > cursor) {
          for (let s = cursor + 1; s < r.seq && gaps.size < MAX_GAPS; s++) gaps.set(s, now);
          cursor = r.seq;
        } else {
          gaps.delete(r.seq);
        }
        if (r.origin === deps.feed.origin) continue;
        if (r.thing_name === null) all = true;
        else things.add(r.thing_name);
      }
      for (const [s, missedAt] of gaps) if (now - missedAt > GAP_MS) gaps.delete(s);
      // One "every connection" covers the things named alongside it.
      if (all) deps.feed.changed();
      else for (const t of things) deps.feed.changed(t);
      return full;
    },
    nextDueAt: async () => undefined,
  };
}
