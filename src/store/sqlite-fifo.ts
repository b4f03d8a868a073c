import { SqliteDialect, type DatabaseConnection, type Driver, type QueryCompiler, type TransactionSettings } from 'kysely';
import { LiteralLimitSqliteQueryCompiler } from './sqlite-compiler.js';

/**
 * Kysely's SQLite dialect with its one connection handed out first come, first served.
 *
 * Kysely's own mutex wakes every waiter at each release and all but one go back to sleep: with a
 * few hundred device requests waiting for the connection that is O(n²) wake-ups per burst, and it
 * was the largest single cost of answering MQTT devices (a fifth of the server's CPU). Here each
 * release wakes exactly the next waiter; the inner driver's mutex is then never contended.
 */
export class FifoSqliteDialect extends SqliteDialect {
  private driver?: FifoDriver;

  override createDriver(): Driver {
    this.driver = new FifoDriver(super.createDriver());
    return this.driver;
  }

  /** The one connection's use, for the metrics: whether it is held, and how many wait for it. */
  use(): { inUse: number; waiting: number } {
    return { inUse: this.driver?.held ? 1 : 0, waiting: this.driver?.waiting.length ?? 0 };
  }

  /** Literal LIMITs (sqlite-compiler.ts). */
  override createQueryCompiler(): QueryCompiler {
    return new LiteralLimitSqliteQueryCompiler();
  }
}

class FifoDriver implements Driver {
  held = false;
  readonly waiting: (() => void)[] = [];

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held = true;
    return this.inner.acquireConnection();
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection(connection);
    // Handed straight to the next waiter: `held` stays true.
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.inner.savepoint!(connection, name, compile);
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.inner.rollbackToSavepoint!(connection, name, compile);
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    return this.inner.releaseSavepoint!(connection, name, compile);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
