import type { Compilable, CompiledQuery, Kysely, QueryResult, RawBuilder } from 'kysely';
import type { Database, Dialect } from './schema.js';

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
    return db.executeQuery({ ...query, parameters });
  }
}
