import type { Kysely } from 'kysely';
import { ReusableQuery } from './reusable-query.js';
import type { Database, Dialect } from './schema.js';

declare module './schema.js' {
  interface Database {
    thing_principals: ThingPrincipalRow;
  }
}

export interface ThingPrincipalRow {
  thing_name: string;
  /** The certificate's ARN. */
  principal: string;
  /** EXCLUSIVE_THING or NON_EXCLUSIVE_THING. */
  principal_type: string;
  created_at: number;
}

/** Which principals (certificate ARNs) are attached to which things. */
/** A certificate's things at every TLS CONNECT: compiled once per limit (reusable-query.ts). */
const thingsOfPrincipal = new ReusableQuery<[string], ThingPrincipalRow>((db, [principal], shape) =>
  db.selectFrom('thing_principals').selectAll().where('principal', '=', principal).orderBy('thing_name').limit(Number(shape)),
);

export class ThingPrincipalStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  get(thingName: string, principal: string): Promise<ThingPrincipalRow | undefined> {
    return this.db.selectFrom('thing_principals').selectAll().where('thing_name', '=', thingName).where('principal', '=', principal).executeTakeFirst();
  }

  async put(row: ThingPrincipalRow): Promise<void> {
    await this.db
      .insertInto('thing_principals')
      .values(row)
      .onConflict((oc) => oc.columns(['thing_name', 'principal']).doUpdateSet({ principal_type: row.principal_type }))
      .execute();
  }

  /** False when the pair was not attached. */
  async delete(thingName: string, principal: string): Promise<boolean> {
    const r = await this.db.deleteFrom('thing_principals').where('thing_name', '=', thingName).where('principal', '=', principal).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** The principal's attachments, by thing name (keyset). */
  async ofPrincipal(principal: string, afterThing: string | undefined, limit: number, type?: string): Promise<ThingPrincipalRow[]> {
    if (afterThing === undefined && type === undefined) return (await thingsOfPrincipal.run(this.db, this.dialect, [principal], String(limit))).rows;
    let q = this.db.selectFrom('thing_principals').selectAll().where('principal', '=', principal).orderBy('thing_name').limit(limit);
    if (afterThing !== undefined) q = q.where('thing_name', '>', afterThing);
    if (type !== undefined) q = q.where('principal_type', '=', type);
    return q.execute();
  }

  /** The thing's principals, by ARN (keyset). */
  ofThing(thingName: string, afterPrincipal: string | undefined, limit: number, type?: string): Promise<ThingPrincipalRow[]> {
    let q = this.db.selectFrom('thing_principals').selectAll().where('thing_name', '=', thingName).orderBy('principal').limit(limit);
    if (afterPrincipal !== undefined) q = q.where('principal', '>', afterPrincipal);
    if (type !== undefined) q = q.where('principal_type', '=', type);
    return q.execute();
  }

  /** The (principal, thing) pairs among `principals`' attachments. */
  async attachmentsOf(principals: string[]): Promise<{ principal: string; thing_name: string }[]> {
    if (principals.length === 0) return [];
    return this.db.selectFrom('thing_principals').select(['principal', 'thing_name']).where('principal', 'in', principals).execute();
  }

  async countOfPrincipal(principal: string): Promise<number> {
    const r = await this.db.selectFrom('thing_principals').select((eb) => eb.fn.countAll<number>().as('n')).where('principal', '=', principal).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async countOfThing(thingName: string): Promise<number> {
    const r = await this.db.selectFrom('thing_principals').select((eb) => eb.fn.countAll<number>().as('n')).where('thing_name', '=', thingName).executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}
