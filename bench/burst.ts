/**
 * bench:burst — the slowest writes under a burst of 500 concurrent signed clients, on a freshly
 * started server (cold) and then on the same server again (warm), on SQLite and PostgreSQL
 * (issue 8, item 7). Every client opens its own keep-alive connection at once and, for the burst's
 * length, sends GetPackageVersion with a CreatePackageVersion every `--write-every` requests.
 * Prints p50 / p99 / max of writes and reads, and of writes started in the burst's first second.
 *   npm run bench:burst [-- --clients 500 --seconds 5 --write-every 5 --backends sqlite,postgres]
 */
import { execFileSync } from 'node:child_process';
import { signRequest, startServer } from './harness.js';
import { KeepAliveClient } from './keep-alive-client.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const CLIENTS = Number(args.get('clients') ?? 500);
const SECONDS = Number(args.get('seconds') ?? 5);
const WRITE_EVERY = Number(args.get('write-every') ?? 5);
const BACKENDS = (args.get('backends') ?? 'sqlite,postgres').split(',');

interface Sample {
  write: boolean;
  startedAt: number;
  ms: number;
  status: number;
}

function stats(samples: Sample[]) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const pct = (p: number) => (ms.length === 0 ? NaN : ms[Math.min(ms.length - 1, Math.floor(ms.length * p))]);
  return { n: ms.length, p50: pct(0.5), p99: pct(0.99), max: ms.length === 0 ? NaN : ms[ms.length - 1] };
}

async function burst(base: URL, phase: string): Promise<Sample[]> {
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const samples: Sample[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, w) => {
      const client = await KeepAliveClient.connect(base.hostname, Number(base.port));
      try {
        for (let i = 0; performance.now() < deadline; i++) {
          const write = (i + w) % WRITE_EVERY === 0;
          const req = write
            ? await signRequest(base, 'PUT', `/packages/burst/versions/${phase}-${w}-${i}`, { clientToken: crypto.randomUUID() }, { attributes: { os: 'linux' } })
            : await signRequest(base, 'GET', '/packages/burst/versions/seed', {});
          const started = performance.now();
          const res = await client.request(write ? 'PUT' : 'GET', req.target, req.headers, req.payload);
          samples.push({ write, startedAt: started - t0, ms: performance.now() - started, status: res.status });
        }
      } finally {
        client.close();
      }
    }),
  );
  return samples;
}

execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const rows: { backend: string; phase: string; kind: string; n: number; p50: number; p99: number; max: number; errors: number }[] = [];
for (const backend of BACKENDS) {
  const server = await startServer(backend, { FLEETJOBS_MAX_VERSIONS_PER_PACKAGE: '1000000' });
  const base = new URL(server.url);
  try {
    const seed = await KeepAliveClient.connect(base.hostname, Number(base.port));
    for (const [method, path, body] of [['PUT', '/packages/burst', {}], ['PUT', '/packages/burst/versions/seed', { attributes: { os: 'linux' } }]] as const) {
      const r = await signRequest(base, method, path, { clientToken: crypto.randomUUID() }, body);
      await seed.request(method, r.target, r.headers, r.payload);
    }
    seed.close();
    for (const phase of ['cold', 'warm']) {
      const samples = await burst(base, phase);
      const errors = samples.filter((s) => s.status !== 200).length;
      const writes = samples.filter((s) => s.write);
      if (process.env.BENCH_BURST_SLOWEST) console.log(phase, [...samples].sort((a, b) => b.ms - a.ms).slice(0, 15).map((s) => `${s.startedAt.toFixed(0)}+${s.ms.toFixed(0)}`).join(' '));
      rows.push({ backend, phase, kind: 'writes', errors, ...stats(writes) });
      rows.push({ backend, phase, kind: 'writes in 1st s', errors: 0, ...stats(writes.filter((s) => s.startedAt < 1000)) });
      rows.push({ backend, phase, kind: 'reads', errors: 0, ...stats(samples.filter((s) => !s.write)) });
    }
  } finally {
    await server.cleanup();
  }
}

console.log(`\nbench:burst — ${CLIENTS} concurrent signed clients, ${SECONDS}s per burst, one write in ${WRITE_EVERY}, Node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);
console.log('backend   burst  kind              requests  non-200   p50 ms    p99 ms    max ms');
for (const r of rows) {
  console.log(`${r.backend.padEnd(9)} ${r.phase.padEnd(6)} ${r.kind.padEnd(16)} ${String(r.n).padStart(9)} ${String(r.errors).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(9)} ${r.max.toFixed(1).padStart(9)}`);
}
