import type { Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    shadows: ShadowRow;
  }
}

export interface ShadowRow {
  thing_name: string;
  /** '' for the classic (unnamed) shadow. */
  shadow_name: string;
  /** JSON {state:{desired?,reported?}, metadata?:{desired?,reported?}}; '{}' for a tombstone. */
  document: string;
  version: number;
  updated_at: number;
  /** Set when the shadow was deleted: the row is then a tombstone keeping `version`. */
  deleted_at: number | null;
}

/** What a conditional write expects to find, so concurrent writers cannot both win. */
export interface ShadowRowVersion {
  version: number;
  deleted_at: number | null;
}

export class ShadowStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * One shadow row, live or tombstone. `forUpdate` locks it on PostgreSQL for the rest of the
   * transaction (SQLite serializes write transactions anyway).
   */
  get(thingName: string, shadowName: string, options: { forUpdate?: boolean } = {}): Promise<ShadowRow | undefined> {
    let q = this.db.selectFrom('shadows').selectAll().where('thing_name', '=', thingName).where('shadow_name', '=', shadowName);
    if (options.forUpdate && this.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  /** Inserts a new shadow; false when a concurrent writer created it first. */
  async insert(row: ShadowRow): Promise<boolean> {
    const result = await this.db
      .insertInto('shadows')
      .values(row)
      .onConflict((oc) => oc.columns(['thing_name', 'shadow_name']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Overwrites a shadow if it is still as `expected`; false when someone changed it meanwhile. */
  async replace(row: ShadowRow, expected: ShadowRowVersion): Promise<boolean> {
    let q = this.db
      .updateTable('shadows')
      .set({ document: row.document, version: row.version, updated_at: row.updated_at, deleted_at: row.deleted_at })
      .where('thing_name', '=', row.thing_name)
      .where('shadow_name', '=', row.shadow_name)
      .where('version', '=', expected.version);
    q = expected.deleted_at === null ? q.where('deleted_at', 'is', null) : q.where('deleted_at', '=', expected.deleted_at);
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Names of a thing's live named shadows, in name order, after `afterName`. */
  async listNamed(thingName: string, afterName: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('shadows')
      .select('shadow_name')
      .where('thing_name', '=', thingName)
      .where('shadow_name', '>', afterName ?? '')
      .where('deleted_at', 'is', null)
      .orderBy('shadow_name')
      .limit(limit)
      .execute();
    return rows.map((r) => r.shadow_name);
  }
}
