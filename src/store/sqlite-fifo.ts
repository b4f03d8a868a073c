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
  prepare(sqlText: string): { reader: boolean; readonly: boolean; all(params: readonly unknown[]): unknown[]; run(params: readonly unknown[]): { changes: number; lastInsertRowid: number | bigint }; iterate(params: readonly unknown[]): Iterable<unknown> };
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
  private readonly waiting: { resolve: () => void; transaction: boolean }[] = [];
  /** The transaction a group of transactions shares until its COMMIT (see `transaction`). */
  private group?: CommitGroup;
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

  /** The one connection's use, for the metrics: whether it is held, and how many wait for it. */
  use(): { inUse: number; waiting: number } {
    return { inUse: this.busy ? 1 : 0, waiting: this.waiting.length };
  }

  /**
   * Resolves once the connection is this caller's (at once, without a turn, when it is free). A
   * caller that cannot join the open commit group (see `transaction`) finds it committed.
   */
  acquire(transaction = false): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      this.commitUnlessJoinable(transaction);
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push({ resolve, transaction }));
  }

  release(): void {
    const next = this.waiting.shift();
    if (!next) {
      this.busy = false;
      return;
    }
    // Handed straight to the next waiter: `busy` stays true.
    this.commitUnlessJoinable(next.transaction);
    next.resolve();
  }

  private commitUnlessJoinable(transaction: boolean): void {
    if (this.group && (!transaction || this.group.members >= MAX_GROUP)) this.commitGroup();
  }

  /** Runs one statement now; the caller holds the connection or knows it is free. */
  execute<R>(sqlText: string, parameters: readonly unknown[]): QueryResult<R> {
    return this.executeOn(this.database.prepare(sqlText), parameters);
  }

  private executeOn<R>(stmt: ReturnType<SqliteHandle['prepare']>, parameters: readonly unknown[]): QueryResult<R> {
    if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  /**
   * A statement outside any transaction: at once when the connection is free, else in turn. A
   * read that finds a commit group open runs in it and answers once the group has committed (so
   * it never returns what might not commit; if the COMMIT fails it runs again on what is left).
   */
  run<R>(sqlText: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    if (!this.busy && this.group) {
      const stmt = this.database.prepare(sqlText);
      if (stmt.readonly) {
        try {
          const result = this.executeOn<R>(stmt, parameters);
          return this.group.done.then(() => result, () => this.run<R>(sqlText, parameters));
        } catch (e) {
          return Promise.reject(e);
        }
      }
    }
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

  /**
   * `fn` in one transaction on the held connection; undone if it throws or COMMIT fails.
   *
   * Group commit: a transaction that has run keeps SQLite's transaction open until the end of the
   * event loop's turn (or until a statement that cannot join needs the connection), and the
   * transactions that come meanwhile run inside it, each under a savepoint that undoes it alone if
   * it fails. One COMMIT ends the group, and only then does any member return (none announces a
   * change that might not commit). A COMMIT writes every page its transaction dirtied to the WAL,
   * and the device path's transactions dirty the same few pages (counter shards, index leaves):
   * one COMMIT per device request was a third of its SQL time.
   */
  async transaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    await this.acquire(true);
    const joined = this.group;
    const group = joined ?? new CommitGroup();
    let result: T;
    let savepoint = false;
    try {
      if (joined) {
        this.execute(MEMBER_SAVEPOINT, []);
        savepoint = true;
      } else {
        this.execute('begin', []);
        this.group = group;
      }
      group.members++;
      result = await fn(this.held);
      if (joined) this.execute(MEMBER_RELEASE, []);
    } catch (e) {
      if (!this.database.inTransaction) {
        // Nothing began, or SQLite rolled the whole transaction back (an I/O error, say): the
        // group's work is gone with it.
        if (this.group === group) this.group = undefined;
        group.fail(e);
        this.release();
      } else if (joined) {
        if (savepoint) {
          this.execute(MEMBER_ROLLBACK, []);
          this.execute(MEMBER_RELEASE, []);
        }
        this.settle(group);
      } else {
        // The group's first member: nobody joined while it ran.
        this.execute('rollback', []);
        this.group = undefined;
        this.release();
      }
      throw e;
    }
    this.settle(group);
    await group.done;
    return result;
  }

  /** Commits what is open now (before the database closes). */
  flush(): void {
    if (this.group && !this.busy) this.commitGroup();
  }

  /** A member has run: the group commits at the end of this turn unless it commits earlier. */
  private settle(group: CommitGroup): void {
    if (!group.scheduled) {
      group.scheduled = true;
      setImmediate(() => {
        group.scheduled = false;
        // A member running now settles again when it ends.
        if (this.group !== group || this.busy) return;
        this.commitGroup();
      });
    }
    this.release();
  }

  private commitGroup(): void {
    const group = this.group!;
    this.group = undefined;
    try {
      this.execute('commit', []);
    } catch (e) {
      if (this.database.inTransaction) this.execute('rollback', []);
      group.fail(e);
      return;
    }
    group.succeed();
  }
}

/** Transactions committed together at most (each member waits for the group's COMMIT). */
const MAX_GROUP = 64;
const MEMBER_SAVEPOINT = 'savepoint fleetjobs_member';
const MEMBER_RELEASE = 'release fleetjobs_member';
const MEMBER_ROLLBACK = 'rollback to fleetjobs_member';

/** Transactions sharing one SQLite transaction; settled by its COMMIT. */
class CommitGroup {
  members = 0;
  /** Its end-of-turn COMMIT is due. */
  scheduled = false;
  succeed!: () => void;
  fail!: (error: unknown) => void;
  readonly done = new Promise<void>((resolve, reject) => {
    this.succeed = resolve;
    this.fail = reject;
  });

  constructor() {
    // A group whose first member failed alone has no one waiting on `done`.
    this.done.catch(() => undefined);
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
    if (this.held) return;
    this.gate.flush();
    this.gate.database.close();
  }
}
