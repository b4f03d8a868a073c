import type { Kysely } from 'kysely';
import { numericValue } from '../text-number.js';
import { ReusableQuery } from './reusable-query.js';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    things: ThingRow;
    thing_attributes: ThingAttributeRow;
    thing_types: ThingTypeRow;
  }
}

export interface ThingRow {
  thing_name: string;
  thing_id: string;
  thing_type_name: string | null;
  billing_group_name: string | null;
  /** JSON object of string → string; `{}` when there are none. */
  attributes: string;
  version: number;
  created_at: number;
}

/** The searchable copy of `things.attributes`, one row per attribute (ListThings filters). */
export interface ThingAttributeRow {
  thing_name: string;
  attr_name: string;
  attr_value: string;
  /** Lowercased value and the value as a number when it reads as one (fleet indexing, migration 0016). */
  value_lower: string | null;
  value_num: number | null;
}

export interface ThingTypeRow {
  thing_type_name: string;
  thing_type_id: string;
  description: string | null;
  /** JSON array of attribute names. */
  searchable_attributes: string | null;
  /** JSON {propagatingAttributes:[...]}. */
  mqtt5_configuration: string | null;
  deprecated: number;
  deprecation_date: number | null;
  created_at: number;
}

export interface ThingFilter {
  thingTypeName?: string;
  attributeName?: string;
  /** Undefined: the thing only has to have the attribute. */
  attributeValue?: string;
  /** Match `attributeValue` as a prefix of the stored value. */
  prefix?: boolean;
}

/** Things of the registry, with their searchable attribute rows kept in step. */
/** The device path reads a thing at every CONNECT: compiled once (reusable-query.ts). */
const thingByName = new ReusableQuery<[string], ThingRow>((db, [name]) => db.selectFrom('things').selectAll().where('thing_name', '=', name));

export class ThingStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async get(name: string): Promise<ThingRow | undefined> {
    return (await thingByName.run(this.db, this.dialect, [name])).rows[0];
  }

  /**
   * Reads the thing and, on PostgreSQL, locks its row until the transaction ends: changes to one
   * thing (version checks, its group count) then happen one after another. SQLite transactions are
   * already serialized.
   */
  getForUpdate(name: string): Promise<ThingRow | undefined> {
    const q = this.db.selectFrom('things').selectAll().where('thing_name', '=', name);
    return (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  /** False when a thing of that name already exists (a concurrent create won). */
  async insert(row: ThingRow, attributes: Record<string, string>): Promise<boolean> {
    const result = await this.db
      .insertInto('things')
      .values(row)
      .onConflict((oc) => oc.column('thing_name').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    await this.insertAttributes(row.thing_name, attributes);
    return true;
  }

  async update(name: string, patch: { thing_type_name?: string | null; attributes?: Record<string, string>; version: number }): Promise<void> {
    const set: Partial<ThingRow> = { version: patch.version };
    if (patch.thing_type_name !== undefined) set.thing_type_name = patch.thing_type_name;
    if (patch.attributes !== undefined) set.attributes = JSON.stringify(patch.attributes);
    await this.db.updateTable('things').set(set).where('thing_name', '=', name).execute();
    if (patch.attributes !== undefined) {
      await this.db.deleteFrom('thing_attributes').where('thing_name', '=', name).execute();
      await this.insertAttributes(name, patch.attributes);
    }
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('thing_attributes').where('thing_name', '=', name).execute();
    await this.db.deleteFrom('things').where('thing_name', '=', name).execute();
  }

  /** Things by name (keyset), narrowed by type and/or one attribute. */
  list(filter: ThingFilter, afterName: string | undefined, limit: number): Promise<ThingRow[]> {
    let q = this.db.selectFrom('things').selectAll('things').orderBy('things.thing_name').limit(limit);
    if (afterName !== undefined) q = q.where('things.thing_name', '>', afterName);
    if (filter.thingTypeName !== undefined) q = q.where('things.thing_type_name', '=', filter.thingTypeName);
    if (filter.attributeName !== undefined) {
      const name = filter.attributeName;
      const value = filter.attributeValue;
      let attrs = this.db.selectFrom('thing_attributes').select('thing_attributes.thing_name').where('attr_name', '=', name);
      if (value !== undefined) {
        // substr, not LIKE: LIKE is case-insensitive in SQLite and `_` is a wildcard.
        attrs = filter.prefix
          ? attrs.where((eb) => eb(eb.fn('substr', ['attr_value', eb.val(1), eb.val(value.length)]), '=', value))
          : attrs.where('attr_value', '=', value);
      }
      q = q.where('things.thing_name', 'in', attrs);
    }
    return q.execute();
  }

  async anyOfType(typeName: string): Promise<boolean> {
    const row = await this.db.selectFrom('things').select('thing_name').where('thing_type_name', '=', typeName).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  private async insertAttributes(name: string, attributes: Record<string, string>): Promise<void> {
    const rows = Object.entries(attributes).map(([k, v]) => ({ thing_name: name, attr_name: k, attr_value: v, value_lower: v.toLowerCase(), value_num: numericValue(v) }));
    if (rows.length > 0) await this.db.insertInto('thing_attributes').values(rows).execute();
  }
}

/** Thing types (things-and-shadows.md §3.8). */
export class ThingTypeStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(name: string): Promise<ThingTypeRow | undefined> {
    return this.db.selectFrom('thing_types').selectAll().where('thing_type_name', '=', name).executeTakeFirst();
  }

  /**
   * Reads the type sharing-locked on PostgreSQL, so a thing is not associated with a type that a
   * concurrent DeprecateThingType / DeleteThingType is changing.
   */
  getForShare(name: string): Promise<ThingTypeRow | undefined> {
    const q = this.db.selectFrom('thing_types').selectAll().where('thing_type_name', '=', name);
    return (this.dialect === 'postgres' ? q.forShare() : q).executeTakeFirst();
  }

  getForUpdate(name: string): Promise<ThingTypeRow | undefined> {
    const q = this.db.selectFrom('thing_types').selectAll().where('thing_type_name', '=', name);
    return (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  }

  async insert(row: ThingTypeRow): Promise<boolean> {
    const result = await this.db
      .insertInto('thing_types')
      .values(row)
      .onConflict((oc) => oc.column('thing_type_name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async update(name: string, patch: Partial<Omit<ThingTypeRow, 'thing_type_name'>>): Promise<void> {
    await this.db.updateTable('thing_types').set(patch).where('thing_type_name', '=', name).execute();
  }

  async delete(name: string): Promise<void> {
    await this.db.deleteFrom('thing_types').where('thing_type_name', '=', name).execute();
  }

  /** Types by name (keyset); `namePrefix` narrows to names starting with it. */
  list(namePrefix: string | undefined, afterName: string | undefined, limit: number): Promise<ThingTypeRow[]> {
    let q = this.db.selectFrom('thing_types').selectAll().orderBy('thing_type_name').limit(limit);
    if (afterName !== undefined) q = q.where('thing_type_name', '>', afterName);
    if (namePrefix !== undefined) {
      q = q.where((eb) => eb(eb.fn('substr', ['thing_type_name', eb.val(1), eb.val(namePrefix.length)]), '=', namePrefix));
    }
    return q.execute();
  }
}
