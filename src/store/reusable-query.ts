import type { Compilable, CompiledQuery, Kysely, QueryResult, RawBuilder } from 'kysely';
import type { Database, Dialect } from './schema.js';
import { sqliteGateOf } from './sqlite-fifo.js';

const SLOT = Symbol('reusable query parameter');
type Slot = { readonly [SLOT]: number };
const isSlot = (v: unknown): v is Slot => typeof v === 'object' && v !== null && SLOT in v;

/**
 * A hot statement built and compiled by Kysely once per dialect and shape, then run with new
 * parameters. On the device path building and compiling a query cost about as much as SQLite
 * running it; the same SQL text each time also finds its prepared statement at once.
 *
 * `build` gets stand-ins for the parameters and must use each only as a plain value (`=`, a SET
 * value, an insert value); anything else that changes the SQL text (a column list, FOR UPDATE, a
 * LIMIT) belongs in `shape`, the dialect is part of it already.
 *
 * On SQLite the statement goes straight to better-sqlite3 through the connection's gate
 * (sqlite-fifo.ts): on the held connection when `db` is a transaction's, else at once if the
 * connection is free or in turn if not.
 */
export class ReusableQuery<A extends unknown[], R> {
  private readonly compiled = new Map<string, { query: CompiledQuery<R>; slots: (number | undefined)[] }>();

  constructor(private readonly build: (db: Kysely<Database>, params: A, shape: string, dialect: Dialect) => Compilable<R> | RawBuilder<R>) {}

  run(db: Kysely<Database>, dialect: Dialect, params: A, shape = ''): Promise<QueryResult<R>> {
    const key = `${dialect}\u0000${shape}`;
    let c = this.compiled.get(key);
    if (!c) {
      const standIns = params.map((_, i) => ({ [SLOT]: i })) as unknown as A;
      // A query builder compiles by itself, raw SQL with the database's compiler.
      const query = (this.build(db, standIns, shape, dialect) as { compile(db: Kysely<Database>): CompiledQuery<R> }).compile(db);
      c = { query, slots: query.parameters.map((p) => (isSlot(p) ? p[SLOT] : undefined)) };
      if (new Set(c.slots.filter((s) => s !== undefined)).size !== params.length) throw new Error(`a reusable query did not use each of its ${params.length} parameters: ${query.sql}`);
      this.compiled.set(key, c);
    }
    const { query, slots } = c;
    const parameters = query.parameters.map((p, i) => {
      const s = slots[i];
      return s === undefined ? p : params[s];
    });
    const sqlite = sqliteGateOf(db);
    if (!sqlite) return db.executeQuery({ ...query, parameters });
    if (!sqlite.inTransaction) return sqlite.gate.run<R>(query.sql, parameters);
    try {
      if (!sqlite.gate.isHeld) throw new Error("a transaction's store was used after the transaction ended");
      return Promise.resolve(sqlite.gate.execute<R>(query.sql, parameters));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}
