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
import { execFileSync } from 'node:child_process';
import { processCpuSeconds, signRequest, startServer } from './harness.js';
import { KeepAliveClient } from './keep-alive-client.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const SECONDS = Number(args.get('seconds') ?? 8);
const CONCURRENCY = Number(args.get('concurrency') ?? 32);
const BACKENDS = (args.get('backends') ?? 'sqlite,postgres').split(',');
const OPS = (args.get('ops') ?? 'GetPackageVersion,ListPackageVersions,CreatePackageVersion').split(',');

let clients: KeepAliveClient[] = [];

/** Signs one request, as an SDK does, and sends it on the worker's own connection. */
async function signedRequest(base: URL, worker: number, method: string, path: string, query: Record<string, string>, body?: object): Promise<number> {
  const { target, headers, payload } = await signRequest(base, method, path, query, body);
  return (await clients[worker].request(method, target, headers, payload)).status;
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
