/**
 * bench:api — requests/s and p50/p99 latency of GetPackageVersion, ListPackageVersions and
 * CreatePackageVersion with 32 concurrent SigV4-signed clients, on SQLite and PostgreSQL.
 * The server runs in its own process (as in production); this process is the load generator: it
 * signs every request itself with @smithy/signature-v4, like an SDK would, and sends it over one
 * keep-alive connection per client (keep-alive-client.ts). It also prints the CPU time each side
 * spent per request, which travels between machines better than requests/s.
 *   npm run bench:api [-- --seconds 8 --concurrency 32 --backends sqlite,postgres --ops GetPackageVersion]
 * BENCH_SERVER_SCRIPT=<file.mjs> runs that script instead of fleetjobs (it must print
 * "listening on <url>" first): point it at a bare node:http server to measure the harness's own
 * ceiling on this machine (bench/bare-server.mjs is one). BENCH_CPU_PROFILE=<dir> writes the
 * server's CPU profile there.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SignatureV4 } from '@smithy/signature-v4';
import pg from 'pg';
import { Sha256 } from '../src/crypto/sha256.js';
import { KeepAliveClient } from './keep-alive-client.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const SECONDS = Number(args.get('seconds') ?? 8);
const CONCURRENCY = Number(args.get('concurrency') ?? 32);
const BACKENDS = (args.get('backends') ?? 'sqlite,postgres').split(',');
const OPS = (args.get('ops') ?? 'GetPackageVersion,ListPackageVersions,CreatePackageVersion').split(',');
const PG_URL = process.env.FLEETJOBS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CREDS = { accessKeyId: 'AKIABENCHMARK0000001', secretAccessKey: 'bench-secret-key-000000000000000000000000' };

const signer = new SignatureV4({ credentials: CREDS, region: 'us-east-1', service: 'iot', sha256: Sha256 as never, uriEscapePath: true });

async function startServer(backend: string): Promise<{ url: string; child: ChildProcess; cleanup: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetjobs-bench-'));
  const schema = `bench_${process.pid}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FLEETJOBS_ACCESS_KEY_ID: CREDS.accessKeyId,
    FLEETJOBS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    FLEETJOBS_LOG_LEVEL: 'warn',
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
  // The production entry point (built by `npm ci` / `npm run build`), not the tsx dev loader.
  const child = spawn(process.execPath, [...profile, ...(process.env.BENCH_SERVER_SCRIPT ? [process.env.BENCH_SERVER_SCRIPT] : ['dist/cli/main.js', 'serve']), '--port', '0', '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const url = /listening on (\S+)/.exec(first)?.[1];
  if (!url) throw new Error(`unexpected first line: ${first}`);
  return {
    url,
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

let clients: KeepAliveClient[] = [];

/** Signs one request with @smithy/signature-v4, as an SDK does, and sends it on the worker's own connection. */
async function signedRequest(base: URL, worker: number, method: string, path: string, query: Record<string, string>, body?: object): Promise<number> {
  const payload = body ? JSON.stringify(body) : '';
  const headers: Record<string, string> = { host: base.host };
  if (body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  headers['x-amz-content-sha256'] = createHash('sha256').update(payload).digest('hex');
  const signed = await signer.sign({ method, protocol: 'http:', hostname: base.hostname, port: Number(base.port), path, query, headers, body: payload });
  const qs = new URLSearchParams(query).toString();
  const res = await clients[worker].request(method, qs ? `${path}?${qs}` : path, signed.headers as Record<string, string>, payload);
  return res.status;
}

interface Result {
  op: string;
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
  /** CPU time per request, in µs, of the server process and of this load generator. */
  serverCpu: number;
  clientCpu: number;
}

/** user+system CPU seconds of another process, from /proc (Linux); NaN elsewhere. */
function processCpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

async function load(op: string, serverPid: number | undefined, make: (worker: number, i: number) => Promise<number>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  const serverCpu0 = processCpuSeconds(serverPid);
  const clientCpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        const status = await make(w, i);
        latencies.push(performance.now() - t0);
        if (status !== 200) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = ((processCpuSeconds(serverPid) - serverCpu0) * 1e6) / latencies.length;
  const clientCpuUsage = process.cpuUsage(clientCpu0);
  const clientCpu = (clientCpuUsage.user + clientCpuUsage.system) / latencies.length;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { op, requests: latencies.length, errors, seconds, p50: pct(0.5), p99: pct(0.99), serverCpu, clientCpu };
}

execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const rows: (Result & { backend: string })[] = [];
for (const backend of BACKENDS) {
  const server = await startServer(backend);
  const base = new URL(server.url);
  clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => KeepAliveClient.connect(base.hostname, Number(base.port))));
  try {
    const token = () => crypto.randomUUID();
    await signedRequest(base, 0, 'PUT', '/packages/bench', { clientToken: token() }, { description: 'benchmark' });
    for (let w = 0; w < CONCURRENCY; w++) await signedRequest(base, 0, 'PUT', `/packages/bench-w${w}`, { clientToken: token() }, {});
    for (let i = 0; i < 200; i++) {
      await signedRequest(base, 0, 'PUT', `/packages/bench/versions/seed-${i}`, { clientToken: token() }, { attributes: { os: 'linux', i: String(i) } });
    }
    await load('warmup', server.child.pid, (w, i) => signedRequest(base, w, 'GET', `/packages/bench/versions/seed-${(w + i) % 200}`, {}));
    const operations: Record<string, (w: number, i: number) => Promise<number>> = {
      GetPackageVersion: (w, i) => signedRequest(base, w, 'GET', `/packages/bench/versions/seed-${(w * 7 + i) % 200}`, {}),
      ListPackageVersions: (w) => signedRequest(base, w, 'GET', '/packages/bench/versions', { maxResults: '25' }),
      CreatePackageVersion: (w, i) => signedRequest(base, w, 'PUT', `/packages/bench-w${w}/versions/v${i}`, { clientToken: token() }, { description: 'bench', attributes: { os: 'linux' } }),
    };
    for (const op of OPS) rows.push({ backend, ...(await load(op, server.child.pid, operations[op])) });
  } finally {
    for (const c of clients) c.close();
    await server.cleanup();
  }
}

console.log(`\nbench:api — ${CONCURRENCY} concurrent signed clients, ${SECONDS}s per operation, Node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);
console.log('backend   operation               requests  errors    req/s   p50 ms   p99 ms  server µs/req  client µs/req');
for (const r of rows) {
  console.log(
    `${r.backend.padEnd(9)} ${r.op.padEnd(22)} ${String(r.requests).padStart(9)} ${String(r.errors).padStart(7)} ${(r.requests / r.seconds).toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${r.serverCpu.toFixed(0).padStart(14)} ${r.clientCpu.toFixed(0).padStart(14)}`,
  );
}
