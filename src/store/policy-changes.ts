import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    policy_changes: PolicyChangeRow;
  }
}

export interface PolicyChangeRow {
  seq: number;
  /** NULL: every connection's policies may have changed. */
  thing_name: string | null;
  origin: string;
  at: number;
}

/** Rows per INSERT (3 parameters each, well under either dialect's limit). */
const INSERT_CHUNK = 500;

/** The policy change log other instances read (migration 0021, decision 0049). */
export class PolicyChangeStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Records a change in the caller's transaction. `at` is real time, not the domain clock: the log
   * is pruned by how long ago another node could have read it, whatever a test clock says.
   */
  async record(origin: string, thingNames: readonly (string | null)[]): Promise<void> {
    const at = Date.now();
    for (let i = 0; i < thingNames.length; i += INSERT_CHUNK) {
      const values = thingNames.slice(i, i + INSERT_CHUNK).map((thing_name) => ({ thing_name, origin, at }));
      await this.db.insertInto('policy_changes').values(values as never).execute();
    }
  }

  /** The newest change's seq (0 when there is none). */
  async maxSeq(): Promise<number> {
    const r = await this.db.selectFrom('policy_changes').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    return Number(r?.seq ?? 0);
  }

  /** Changes past `cursor`, and those of the `gaps` below it that have committed since, by seq. */
  async after(cursor: number, gaps: number[], limit: number): Promise<PolicyChangeRow[]> {
    const rows = await this.db
      .selectFrom('policy_changes')
      .select(['seq', 'thing_name', 'origin', 'at'])
      .where((eb) => (gaps.length > 0 ? eb.or([eb('seq', '>', cursor), eb('seq', 'in', gaps)]) : eb('seq', '>', cursor)))
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) }));
  }

  /** Deletes changes recorded before `cutoff`: idempotent, so any node may run it at any time. */
  async prune(cutoff: number): Promise<number> {
    const r = await this.db.deleteFrom('policy_changes').where('at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
