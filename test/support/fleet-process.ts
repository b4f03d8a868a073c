import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { POSTGRES_URL, type Backend } from './backends.js';
import { sendSigned } from './raw-signed-http.js';
import { ServeProcess } from './serve-process.js';
import { REGION, TEST_CREDENTIALS } from './server.js';

/**
 * Storage that outlives a `fleetjobs serve --test-mode` process: a data dir, and on PostgreSQL a
 * schema of its own. Several processes may run on it at once (PostgreSQL), or one after another.
 */
export class FleetStorage {
  private constructor(
    readonly backend: Backend,
    readonly dataDir: string,
    readonly schema?: string,
  ) {}

  static async create(backend: Backend): Promise<FleetStorage> {
    const dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-proc-'));
    if (backend.name !== 'postgres') return new FleetStorage(backend, dataDir);
    const schema = `fjp_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const c = new pg.Client({ connectionString: POSTGRES_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.end();
    return new FleetStorage(backend, dataDir, schema);
  }

  get databaseUrl(): string | undefined {
    if (!this.schema) return undefined;
    return `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${this.schema}`)}`;
  }

  /** Runs SQL against the storage from outside the server (fixtures a test needs in bulk). */
  async sql(statements: string[]): Promise<void> {
    if (this.schema) {
      const c = new pg.Client({ connectionString: this.databaseUrl });
      await c.connect();
      try {
        for (const s of statements) await c.query(s);
      } finally {
        await c.end();
      }
      return;
    }
    const db = new SqliteDatabase(join(this.dataDir, 'fleetjobs.db'));
    try {
      db.pragma('busy_timeout = 10000');
      for (const s of statements) db.exec(s);
    } finally {
      db.close();
    }
  }

  /** `count` things named `${prefix}-000001` … in `group` (which must exist), straight into the registry tables. */
  async seedThings(group: string, prefix: string, count: number, now: number): Promise<void> {
    const name = this.schema ? `'${prefix}-' || lpad(n::text, 6, '0')` : `'${prefix}-' || substr('000000' || n, -6, 6)`;
    const series = this.schema ? `generate_series(1, ${count}) n` : `(with recursive s(n) as (select 1 union all select n + 1 from s where n < ${count}) select n from s)`;
    await this.sql([
      `insert into things (thing_name, thing_id, thing_type_name, billing_group_name, attributes, version, created_at) select ${name}, ${this.schema ? 'md5(n::text)' : 'hex(randomblob(16))'}, null, null, '{}', 1, ${now} from ${series}`,
      `insert into thing_group_members (group_name, thing_name, added_at) select '${group}', ${name}, ${now} from ${series}`,
    ]);
  }

  async destroy(): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true });
    if (this.schema) {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
      await c.end();
    }
  }
}

/** A `fleetjobs serve --test-mode` process on a FleetStorage, with an SDK client and the clock endpoint. */
export class FleetProcess {
  private constructor(
    readonly proc: ServeProcess,
    readonly url: string,
    readonly iot: IoTClient,
  ) {}

  static async start(storage: FleetStorage, extraArgs: string[] = []): Promise<FleetProcess> {
    const external = extraArgs.includes('--mqtt-url');
    const args = ['serve', '--test-mode', '--port', '0', ...(external ? [] : ['--mqtt-port', '0']), '--data-dir', storage.dataDir, ...extraArgs];
    if (storage.databaseUrl) args.push('--database-url', storage.databaseUrl);
    const proc = new ServeProcess(args, { FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, FLEETJOBS_LOG_LEVEL: 'error' });
    const url = await proc.url();
    return new FleetProcess(proc, url, new IoTClient({ endpoint: url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 }));
  }

  /** POST /_fleetjobs/clock; answers the clock's state. */
  async clock(body: Record<string, unknown>): Promise<{ now: string; frozen: boolean }> {
    const res = await sendSigned(this.url, { method: 'POST', path: '/_fleetjobs/clock', body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`clock ${JSON.stringify(body)}: ${res.status} ${res.text}`);
    return res.json as { now: string; frozen: boolean };
  }

  /** Every execution of a job: thing, executionNumber, status and queuedAt (ms). */
  async executions(jobId: string): Promise<{ thing: string; n: number; status: string; queuedAt: number; versionNumber?: number }[]> {
    const out: { thing: string; n: number; status: string; queuedAt: number }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.iot.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 250, nextToken }));
      for (const s of page.executionSummaries ?? []) {
        out.push({ thing: s.thingArn!.split('/').pop()!, n: s.jobExecutionSummary!.executionNumber!, status: s.jobExecutionSummary!.status!, queuedAt: s.jobExecutionSummary!.queuedAt!.getTime() });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  kill(): void {
    this.iot.destroy();
    this.proc.kill();
  }

  async stop(): Promise<void> {
    this.iot.destroy();
    await this.proc.terminate();
  }
}

/** The most releases any 60-second window (t − 60 s, t] holds. */
export function maxPerMinute(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[lo] <= sorted[hi] - 60_000) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}
