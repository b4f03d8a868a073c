import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    background_leases: { name: string; holder: string; lease_until: number };
  }
}

/** Periodic work one node at a time does (migration 0013). */
export class BackgroundLeaseStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Takes the lease on `name` until `until` if nobody holds it now (or `holder` does); true when
   * this holder has it. One statement, so two nodes never both win.
   */
  async claim(name: string, holder: string, now: number, until: number): Promise<boolean> {
    const r = await this.db
      .insertInto('background_leases')
      .values({ name, holder, lease_until: until })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({ holder, lease_until: until }).where((eb) =>
          eb.or([eb('background_leases.lease_until', '<=', now), eb('background_leases.holder', '=', holder)])),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Gives the lease up at once, if `holder` has it (a clean shutdown). */
  async release(name: string, holder: string): Promise<void> {
    await this.db.updateTable('background_leases').set({ lease_until: 0 }).where('name', '=', name).where('holder', '=', holder).execute();
  }

  /** When the lease on `name` lapses, if anyone holds it. */
  async until(name: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('background_leases').select(sql<number>`lease_until`.as('u')).where('name', '=', name).executeTakeFirst();
    return row ? Number(row.u) : undefined;
  }
}
