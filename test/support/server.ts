import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import pg from 'pg';
import pino from 'pino';
import { startServer, type RunningServer, type ServerOptions } from '../../src/app.js';
import { VirtualClock } from '../../src/clock.js';
import { resolveConfig } from '../../src/config/config.js';
import { POSTGRES_URL, type Backend } from './backends.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const TEST_CREDENTIALS = { accessKeyId: 'AKIAFLEETJOBSTEST0001', secretAccessKey: 'fleetjobs-test-secret-key-0000000000000000' };
export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

export interface TestServer {
  server: RunningServer;
  url: string;
  clock: VirtualClock;
  dataDir: string;
  /** The PostgreSQL schema the server lives in (undefined on SQLite); a restart reuses it. */
  schema?: string;
  iot: IoTClient;
  /** Moves the virtual clock forward by `ms`, running the rollout engine at every due moment on the way. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** A real server on a free port, on the given backend, with a virtual clock and SDK clients pointed at it. */
export async function startTestServer(backend: Backend, overrides: Partial<ServerOptions> = {}, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-test-'));
  const schema = backend.name === 'postgres' ? `fj_${process.pid}_${Math.random().toString(36).slice(2, 10)}` : undefined;
  const config = resolveConfig(
    { port: env.FLEETJOBS_PORT === undefined ? 0 : undefined, mqttPort: env.FLEETJOBS_MQTT_PORT === undefined && env.FLEETJOBS_MQTT_URL === undefined ? 0 : undefined, dataDir, databaseUrl: backend.name === 'postgres' ? env.FLEETJOBS_DATABASE_URL ?? POSTGRES_URL : undefined },
    { FLEETJOBS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, ...env },
  );
  const clock = new VirtualClock(Date.now());
  const server = await startServer({ config, clock, logger: pino({ level: 'silent' }), databaseSchema: schema, ...overrides });
  const iot = new IoTClient({ endpoint: server.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  return {
    server,
    url: server.url,
    clock,
    dataDir,
    schema,
    iot,
    advance: (ms) => server.engine.advance(ms),
    async close() {
      iot.destroy();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      if (schema) {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        // Other regions' schemas (--regions) are named after the home one.
        const regions = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE '${schema}\\_%'`);
        for (const r of regions.rows) await client.query(`DROP SCHEMA IF EXISTS ${r.nspname} CASCADE`);
        await client.end();
      }
    },
  };
}

/** Asserts that a promise rejects with the named AWS exception (and optionally a message fragment and status). */
export async function expectAwsError(promise: Promise<unknown>, name: string, opts: { message?: RegExp | string; status?: number } = {}): Promise<Error & { $metadata?: { httpStatusCode?: number }; [k: string]: unknown }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number }; [k: string]: unknown };
    if (e.name !== name) throw new Error(`expected ${name} but got ${e.name}: ${e.message}`);
    if (opts.message !== undefined) {
      const ok = typeof opts.message === 'string' ? e.message.includes(opts.message) : opts.message.test(e.message);
      if (!ok) throw new Error(`expected ${name} message to match ${String(opts.message)} but got: ${e.message}`);
    }
    if (opts.status !== undefined && e.$metadata?.httpStatusCode !== opts.status) {
      throw new Error(`expected HTTP ${opts.status} but got ${e.$metadata?.httpStatusCode}`);
    }
    return e;
  }
  throw new Error(`expected ${name} but the call succeeded`);
}
