/**
 * What the benchmarks share: a fleetjobs server in its own process (the production entry point) on
 * SQLite or a fresh PostgreSQL schema, SigV4 signing as an SDK does it, and the CPU time of the
 * server process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SignatureV4 } from '@smithy/signature-v4';
import pg from 'pg';
import { Sha256 } from '../src/crypto/sha256.js';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.js';

export const PG_URL = process.env.FLEETJOBS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const CREDS = { accessKeyId: 'AKIABENCHMARK0000001', secretAccessKey: 'bench-secret-key-000000000000000000000000' };

const signer = new SignatureV4({ credentials: CREDS, region: 'us-east-1', service: 'iot', sha256: Sha256 as never, uriEscapePath: true });

export async function startServer(backend: string, extraEnv: Record<string, string> = {}): Promise<{ url: string; mqttUrl?: string; mqttTlsUrl?: string; dataDir: string; child: ChildProcess; cleanup: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetjobs-bench-'));
  const schema = `bench_${process.pid}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FLEETJOBS_ACCESS_KEY_ID: CREDS.accessKeyId,
    FLEETJOBS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    // BENCH_LOG_LEVEL=info measures with the request log on (a line per request), as a server runs by default.
    FLEETJOBS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...extraEnv,
  };
  if (backend === 'postgres') {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const sep = PG_URL.includes('?') ? '&' : '?';
    env.FLEETJOBS_DATABASE_URL = `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  }
  const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  // The production entry point (built by `npm ci` / `npm run build`), not the tsx dev loader, with
  // the V8 flags `npm start` and the `fleetjobs` command give it (decision 0052).
  const child = spawn(process.execPath, [...profile, ...SERVER_NODE_FLAGS, ...(process.env.BENCH_SERVER_SCRIPT ? [process.env.BENCH_SERVER_SCRIPT] : ['dist/cli/main.js', 'serve']), '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const url = /listening on (\S+)/.exec(first)?.[1];
  if (!url) throw new Error(`unexpected first line: ${first}`);
  const mqttUrl = / and (mqtt:\/\/\S+)/.exec(first)?.[1];
  // With FLEETJOBS_TLS=1 and FLEETJOBS_MQTT_TLS_PORT: the MQTT TLS listener; devices trust <dataDir>/tls/ca.pem.
  const mqttTlsUrl = / and (mqtts:\/\/\S+)/.exec(first)?.[1];
  return {
    url,
    ...(mqttUrl ? { mqttUrl } : {}),
    ...(mqttTlsUrl ? { mqttTlsUrl } : {}),
    dataDir,
    child,
    async cleanup() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
      if (backend === 'postgres') {
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
    },
  };
}

/** Signs one request with @smithy/signature-v4, as an SDK does: the target, the headers to send, the body. */
export async function signRequest(base: URL, method: string, path: string, query: Record<string, string>, body?: object): Promise<{ target: string; headers: Record<string, string>; payload: string }> {
  const payload = body ? JSON.stringify(body) : '';
  const headers: Record<string, string> = { host: base.host };
  if (body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  headers['x-amz-content-sha256'] = createHash('sha256').update(payload).digest('hex');
  const signed = await signer.sign({ method, protocol: 'http:', hostname: base.hostname, port: Number(base.port), path, query, headers, body: payload });
  const qs = new URLSearchParams(query).toString();
  return { target: qs ? `${path}?${qs}` : path, headers: signed.headers as Record<string, string>, payload };
}

/** user+system CPU seconds of another process, from /proc (Linux); NaN elsewhere. */
export function processCpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

