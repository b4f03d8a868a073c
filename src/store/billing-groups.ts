import type { Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    billing_groups: BillingGroupRow;
  }
}

export interface BillingGroupRow {
  billing_group_name: string;
  billing_group_id: string;
  description: string | null;
  version: number;
  created_at: number;
}

/** Billing groups; their members are the things whose `billing_group_name` names them. */
export class BillingGroupStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(name: string): Promise<BillingGroupRow | undefined> {
    return this.db.selectFrom('billing_groups').selectAll().where('billing_group_name', '=', name).executeTakeFirst();
  }

  /** Reads and, on PostgreSQL, locks the group (updates and deletion happen one after another). */
  getForUpdate(name: string): Promise<BillingGroupRow | undefined> {
    const q = this.db.selectFrom('billing_groups').selectAll().where('billing_group_name', '=', name);
    return (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  /** Reads and, on PostgreSQL, share-locks the group, so it is not deleted while a thing joins it. */
  getForShare(name: string): Promise<BillingGroupRow | undefined> {
    const q = this.db.selectFrom('billing_groups').selectAll().where('billing_group_name', '=', name);
    return (this.dialect === 'postgres' ? q.forShare() : q).executeTakeFirst();
  }

  /** False when a group of that name already exists (a concurrent create won). */
  async insert(row: BillingGroupRow): Promise<boolean> {
    const result = await this.db
      .insertInto('billing_groups')
      .values(row)
      .onConflict((oc) => oc.column('billing_group_name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async update(name: string, patch: Pick<BillingGroupRow, 'description' | 'version'>): Promise<void> {
    await this.db.updateTable('billing_groups').set(patch).where('billing_group_name', '=', name).execute();
  }

  /** Deletes the group; its things belong to no billing group afterwards. */
  async delete(name: string): Promise<void> {
    await this.db.updateTable('things').set({ billing_group_name: null }).where('billing_group_name', '=', name).execute();
    await this.db.deleteFrom('billing_groups').where('billing_group_name', '=', name).execute();
  }

  /** Groups by name (keyset), optionally those whose name starts with `namePrefix`. */
  list(namePrefix: string | undefined, afterName: string | undefined, limit: number): Promise<BillingGroupRow[]> {
    let q = this.db.selectFrom('billing_groups').selectAll().orderBy('billing_group_name').limit(limit);
    if (afterName !== undefined) q = q.where('billing_group_name', '>', afterName);
    if (namePrefix !== undefined) q = q.where((eb) => eb(eb.fn('substr', ['billing_group_name', eb.val(1), eb.val(namePrefix.length)]), '=', namePrefix));
    return q.execute();
  }

  /** The names of the group's things, in name order (keyset). */
  async things(name: string, afterThing: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('things').select('thing_name').where('billing_group_name', '=', name).orderBy('thing_name').limit(limit);
    if (afterThing !== undefined) q = q.where('thing_name', '>', afterThing);
    return (await q.execute()).map((r) => r.thing_name);
  }

  /** Puts the thing in `name` (null: in none): a thing has one billing group at most. */
  async setThingGroup(thingName: string, name: string | null): Promise<void> {
    await this.db.updateTable('things').set({ billing_group_name: name }).where('thing_name', '=', thingName).execute();
  }
}
