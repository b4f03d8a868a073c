import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database, Dialect } from './schema.js';
import { SqliteGate } from './sqlite-fifo.js';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Human-readable location, for the start banner. */
  location: string;
  /** Connections in use, idle and waited for (the metrics' database pool use). */
  poolUse(): PoolUse;
}

export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
}

export interface DatabaseOptions {
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema to use (created when missing); tests give each server its own. */
  schema?: string;
  /** The SQLite file in dataDir (default fleetjobs.db; another region's is fleetjobs-<region>.db). */
  fileName?: string;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

export async function openDatabase(options: DatabaseOptions): Promise<OpenedDatabase> {
  if (options.databaseUrl) {
    const schema = options.schema;
    if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    if (schema) {
      const admin = new pg.Client({ connectionString: options.databaseUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        await admin.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 10,
      options: schema ? `-c search_path=${schema}` : undefined,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID || oid === NUMERIC_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    });
    // A connection that breaks while idle (the database restarted) is dropped by the pool and the
    // next query opens another; without a listener the pool's 'error' would end the process.
    pool.on('error', () => undefined);
    // A connection in use that breaks fails its query (the caller sees that); its 'error' event
    // must not end the process either.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await sql`select 1`.execute(db);
    const safeUrl = options.databaseUrl.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
    return {
      db,
      dialect: 'postgres',
      location: `${safeUrl}${schema ? ` (schema ${schema})` : ''}`,
      poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, options.fileName ?? 'fleetjobs.db');
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // SQLite's default page cache is 2 MiB: a fleet of 10,000 things' executions and their indexes
  // outgrow it, and every point read then goes back to the file and the WAL. 64 MiB at most.
  database.pragma('cache_size = -65536');
  // A checkpoint every 10,000 WAL pages (40 MiB) instead of 1,000: the device path's commits touch
  // the same few pages (a job's counter shards, index leaves) over and over, and a checkpoint
  // writes each page once however often it changed; commits cost a quarter to a third less.
  database.pragma('wal_autocheckpoint = 10000');
  const gate = new SqliteGate(withStatementCache(database));
  return {
    db: gate.root,
    dialect: 'sqlite',
    location: file,
    poolUse: () => {
      const u = gate.use();
      return { total: 1, idle: 1 - u.inUse, waiting: u.waiting };
    },
  };
}

/**
 * Kysely's SQLite driver prepares every query afresh; preparing costs more than running a point
 * lookup, so prepared statements are kept per SQL text (bounded, least recently used out first).
 */
function withStatementCache(database: SqliteDatabase.Database, max = 1000) {
  const cache = new Map<string, CachedStatement>();
  return {
    close: () => database.close(),
    get inTransaction() {
      return database.inTransaction;
    },
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText);
      } else {
        stmt = new CachedStatement(database.prepare(sqlText));
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}

/**
 * A prepared statement whose rows are read as arrays and made into objects here. better-sqlite3
 * builds each row object through V8's API, one named property at a time: a 32-column jobs row
 * took ~23 µs that way against ~10 µs as an array made into an object of one fixed shape, and the
 * device path reads a dozen rows per execution.
 */
class CachedStatement {
  readonly reader: boolean;
  readonly readonly: boolean;
  readonly source: string;
  private readonly row?: (values: unknown[]) => Record<string, unknown>;

  constructor(private readonly stmt: SqliteDatabase.Statement) {
    this.reader = stmt.reader;
    this.readonly = stmt.readonly;
    this.source = stmt.source;
    if (stmt.reader) {
      this.row = rowOf(stmt.columns().map((c) => c.name));
      stmt.raw(true);
    }
  }

  all(params: readonly unknown[]): unknown[] {
    return (this.stmt.all(params) as unknown[][]).map(this.row!);
  }

  run(params: readonly unknown[]): SqliteDatabase.RunResult {
    return this.stmt.run(params);
  }

  *iterate(params: readonly unknown[]): Iterable<unknown> {
    for (const values of this.stmt.iterate(params) as Iterable<unknown[]>) yield this.row!(values);
  }
}

/**
 * A row object maker for these column names: an object literal of one shape, so every row of a
 * statement shares V8's hidden class. A later column of the same name wins, as better-sqlite3's
 * own objects have it. The names come from our own SQL and are quoted as JSON; `__proto__` would
 * set the prototype in a literal, so such a list is built property by property.
 */
function rowOf(names: string[]): (values: unknown[]) => Record<string, unknown> {
  if (names.includes('__proto__')) {
    return (values) => {
      const o: Record<string, unknown> = {};
      names.forEach((n, i) => Object.defineProperty(o, n, { value: values[i], enumerable: true, writable: true, configurable: true }));
      return o;
    };
  }
  return new Function('v', `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`) as (values: unknown[]) => Record<string, unknown>;
}
