import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    tags: TagRow;
  }
}

export interface TagRow {
  resource_arn: string;
  tag_key: string;
  tag_value: string;
}

/** Tags of every taggable resource, keyed by ARN. */
export class TagStore {
  constructor(private readonly db: Kysely<Database>) {}

  list(arn: string, afterKey: string | undefined, limit: number): Promise<TagRow[]> {
    let q = this.db.selectFrom('tags').selectAll().where('resource_arn', '=', arn).orderBy('tag_key').limit(limit);
    if (afterKey !== undefined) q = q.where('tag_key', '>', afterKey);
    return q.execute();
  }

  async keys(arn: string): Promise<string[]> {
    const rows = await this.db.selectFrom('tags').select('tag_key').where('resource_arn', '=', arn).execute();
    return rows.map((r) => r.tag_key);
  }

  async put(arn: string, tags: Record<string, string>): Promise<void> {
    const rows = Object.entries(tags).map(([k, v]) => ({ resource_arn: arn, tag_key: k, tag_value: v }));
    if (rows.length === 0) return;
    await this.db
      .insertInto('tags')
      .values(rows)
      .onConflict((oc) => oc.columns(['resource_arn', 'tag_key']).doUpdateSet((eb) => ({ tag_value: eb.ref('excluded.tag_value') })))
      .execute();
  }

  async remove(arn: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.deleteFrom('tags').where('resource_arn', '=', arn).where('tag_key', 'in', keys).execute();
  }

  async removeAll(arn: string): Promise<void> {
    await this.db.deleteFrom('tags').where('resource_arn', '=', arn).execute();
  }
}
