import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    server_credentials: ServerCredentialsRow;
  }
}

export interface ServerCredentialsRow {
  name: string;
  access_key_id: string;
  secret_access_key: string;
  created_at: number;
}

const DEFAULT = 'default';

/** The server's generated key pair, when the database keeps it (PostgreSQL; decision 0024). */
export class ServerCredentialStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined> {
    const row = await this.db.selectFrom('server_credentials').selectAll().where('name', '=', DEFAULT).executeTakeFirst();
    return row ? { accessKeyId: row.access_key_id, secretAccessKey: row.secret_access_key } : undefined;
  }

  /** Stores the pair unless one is there already; true when this call stored it (the first instance wins). */
  async insertIfAbsent(pair: { accessKeyId: string; secretAccessKey: string }, now: number): Promise<boolean> {
    const result = await this.db
      .insertInto('server_credentials')
      .values({ name: DEFAULT, access_key_id: pair.accessKeyId, secret_access_key: pair.secretAccessKey, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }
}
