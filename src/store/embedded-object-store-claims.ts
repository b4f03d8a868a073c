import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    embedded_object_store: EmbeddedObjectStoreRow;
  }
}

export interface EmbeddedObjectStoreRow {
  name: string;
  data_dir_id: string;
  data_dir: string;
  host: string;
  created_at: number;
}

export interface EmbeddedStoreOwner {
  dataDirId: string;
  dataDir: string;
  host: string;
}

const DEFAULT = 'default';

/** The data dir whose embedded object store holds the database's objects (decision 0045). */
export class EmbeddedObjectStoreClaims {
  constructor(private readonly db: Kysely<Database>) {}

  async owner(): Promise<EmbeddedStoreOwner | undefined> {
    const row = await this.db.selectFrom('embedded_object_store').selectAll().where('name', '=', DEFAULT).executeTakeFirst();
    return row ? { dataDirId: row.data_dir_id, dataDir: row.data_dir, host: row.host } : undefined;
  }

  /** Records the owner unless one is recorded already; returns the owner the database holds after the call. */
  async claim(owner: EmbeddedStoreOwner, now: number): Promise<EmbeddedStoreOwner> {
    await this.db
      .insertInto('embedded_object_store')
      .values({ name: DEFAULT, data_dir_id: owner.dataDirId, data_dir: owner.dataDir, host: owner.host, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const recorded = await this.owner();
    if (!recorded) throw new Error('the embedded object store claim disappeared while it was read');
    return recorded;
  }
}
