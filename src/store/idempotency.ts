import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

declare module './schema.js' {
  interface Database {
    idempotency_tokens: IdempotencyRow;
    settings: SettingRow;
  }
}

export interface IdempotencyRow {
  operation: string;
  client_token: string;
  request_hash: string;
  response: string;
  created_at: number;
}

export interface SettingRow {
  name: string;
  value: string;
}

export class IdempotencyStore {
  constructor(private readonly db: Kysely<Database>) {}

  get(operation: string, token: string): Promise<IdempotencyRow | undefined> {
    return this.db
      .selectFrom('idempotency_tokens')
      .selectAll()
      .where('operation', '=', operation)
      .where('client_token', '=', token)
      .executeTakeFirst();
  }

  /** Stores (or refreshes an expired) token record. */
  async put(row: IdempotencyRow): Promise<void> {
    await this.db
      .insertInto('idempotency_tokens')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['operation', 'client_token']).doUpdateSet({ request_hash: row.request_hash, response: row.response, created_at: row.created_at }),
      )
      .execute();
  }

  async purgeOlderThan(ms: number): Promise<void> {
    await this.db.deleteFrom('idempotency_tokens').where('created_at', '<', ms).execute();
  }
}

/** Account-level singletons such as the package configuration. */
export class SettingsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst();
    return row?.value;
  }

  async put(name: string, value: string): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
      .execute();
  }
}
