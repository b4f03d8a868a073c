import {
  CompiledQuery,
  Kysely,
  SelectQueryNode,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import type { Database } from './schema.js';
import { LiteralLimitSqliteQueryCompiler } from './sqlite-compiler.js';

/** What the gate needs of better-sqlite3 (db.ts wraps it with a prepared-statement cache). */
export interface SqliteHandle {
  prepare(sqlText: string): { reader: boolean; all(params: readonly unknown[]): unknown[]; run(params: readonly unknown[]): { changes: number; lastInsertRowid: number | bigint }; iterate(params: readonly unknown[]): Iterable<unknown> };
  readonly inTransaction: boolean;
  close(): void;
}

/**
 * SQLite's one connection, handed out first come, first served, and the device path's way around
 * Kysely on SQLite.
 *
 * Kysely's own mutex wakes every waiter at each release and all but one go back to sleep: with a
 * few hundred device requests waiting that is O(n²) wake-ups per burst. Here each release wakes
 * exactly the next waiter.
 *
 * better-sqlite3 is synchronous, so a statement that finds the connection free runs at once, in
 * the caller's turn, without Kysely's executor, connection provider and promises (`run`; a
 * fifth of the device path's CPU went there for statements compiled once). Transactions
 * (`transaction`) take the connection, BEGIN and COMMIT it directly, and give their Store the one
 * Kysely bound to the held connection (`held`): only the holder of the connection can reach it.
 */
export class SqliteGate {
  private busy = false;
  private readonly waiting: (() => void)[] = [];
  /** Queries of the transaction holding the connection (only ever used while it is held). */
  readonly held: Kysely<Database>;
  /** Queries that take the connection for each statement (or join the queue for it). */
  readonly root: Kysely<Database>;
  readonly connection: DatabaseConnection;

  constructor(readonly database: SqliteHandle) {
    this.connection = new DirectConnection(this);
    this.root = new Kysely<Database>({ dialect: new GatedSqliteDialect(this, false) });
    this.held = new Kysely<Database>({ dialect: new GatedSqliteDialect(this, true) });
    gates.set(this.root, { gate: this, inTransaction: false });
    gates.set(this.held, { gate: this, inTransaction: true });
  }

  get isHeld(): boolean {
    return this.busy;
  }

  /** Resolves once the connection is this caller's (at once, without a turn, when it is free). */
  acquire(): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    // Handed straight to the next waiter: `busy` stays true.
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }

  /** Runs one statement now; the caller holds the connection or knows it is free. */
  execute<R>(sqlText: string, parameters: readonly unknown[]): QueryResult<R> {
    const stmt = this.database.prepare(sqlText);
    if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  /** A statement outside any transaction: at once when the connection is free, else in turn. */
  run<R>(sqlText: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const waited = this.acquire();
    if (!waited) {
      try {
        return Promise.resolve(this.execute<R>(sqlText, parameters));
      } catch (e) {
        return Promise.reject(e);
      } finally {
        this.release();
      }
    }
    return waited.then(() => {
      try {
        return this.execute<R>(sqlText, parameters);
      } finally {
        this.release();
      }
    });
  }

  /** `fn` in one transaction on the held connection; rolled back if it throws or COMMIT fails. */
  async transaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      this.execute('begin', []);
      let result: T;
      try {
        result = await fn(this.held);
        this.execute('commit', []);
      } catch (e) {
        if (this.database.inTransaction) this.execute('rollback', []);
        throw e;
      }
      return result;
    } finally {
      this.release();
    }
  }
}

/** The gate behind a Kysely instance this module made, and whether it is the held one. */
const gates = new WeakMap<Kysely<Database>, { gate: SqliteGate; inTransaction: boolean }>();

export function sqliteGateOf(db: Kysely<Database>): { gate: SqliteGate; inTransaction: boolean } | undefined {
  return gates.get(db);
}

class DirectConnection implements DatabaseConnection {
  constructor(private readonly gate: SqliteGate) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return Promise.resolve(this.gate.execute<R>(compiledQuery.sql, compiledQuery.parameters));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    for (const row of this.gate.database.prepare(compiledQuery.sql).iterate(compiledQuery.parameters)) yield { rows: [row as R] };
  }
}

/** Kysely's SQLite dialect on the gate: literal LIMITs (sqlite-compiler.ts), the gate's connection. */
class GatedSqliteDialect extends SqliteDialect {
  constructor(
    private readonly gate: SqliteGate,
    private readonly held: boolean,
  ) {
    super({ database: gate.database as never });
  }

  override createDriver(): Driver {
    return new GatedDriver(this.gate, this.held);
  }

  override createQueryCompiler(): QueryCompiler {
    return new LiteralLimitSqliteQueryCompiler();
  }
}

class GatedDriver implements Driver {
  constructor(
    private readonly gate: SqliteGate,
    /** The held instance's: the connection is its transaction's already. */
    private readonly held: boolean,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.held) {
      if (!this.gate.isHeld) throw new Error('a transaction\'s store was used after the transaction ended');
    } else {
      await this.gate.acquire();
    }
    return this.gate.connection;
  }

  async releaseConnection(): Promise<void> {
    if (!this.held) this.gate.release();
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.held) throw new Error('a transaction inside a transaction');
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    if (!this.held) this.gate.database.close();
  }
}
