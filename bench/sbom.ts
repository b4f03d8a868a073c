/**
 * bench:sbom — SBOM validation cost.
 *
 *   npm run bench:sbom [-- --mb 50 --files 100]
 *
 * Each stage runs in its own process so its peak RSS (process.resourceUsage().maxRSS, threads
 * included) is its own:
 *   doc-inline   a generated ~50 MB CycloneDX 1.6 BOM validated on the calling thread
 *   doc-threads  the same BOM as the server validates it (read as an object, validated on a thread)
 *   zip-threads  a zip of 100 SBOMs (npm sbom SPDX and CycloneDX output) the same way
 *   server       a real server (SQLite): upload through S3, AssociateSbomWithPackageVersion, and
 *                the time until GetPackageVersion reports SUCCEEDED, for one small SBOM, the zip
 *                and the big BOM; plus GetPackageVersion latency while the big BOM validates.
 * The inputs are generated once into a temp directory by the parent process.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const TARGET_MB = Number(args.get('mb') ?? 50);
const ZIP_FILES = Number(args.get('files') ?? 100);
const MiB = 1024 * 1024;

const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const ms = (x: number) => `${Math.round(x)} ms`;

/** Writes a CycloneDX 1.6 BOM of about `bytes` bytes: many library components with purls, licenses, hashes and dependencies. */
async function writeBigBom(path: string, bytes: number): Promise<{ size: number; components: number }> {
  const out = createWriteStream(path);
  const write = (s: string) => new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', () => resolve())));
  let size = 0;
  const emit = async (s: string) => {
    size += Buffer.byteLength(s);
    await write(s);
  };
  await emit('{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,');
  await emit('"metadata":{"timestamp":"2026-01-01T00:00:00Z","component":{"type":"firmware","name":"gateway-firmware","version":"7.0.0","bom-ref":"root"}},"components":[');
  const perComponent = 505; // bytes of a component plus its dependency entry, measured
  const count = Math.ceil(bytes / perComponent);
  const ref = (i: number) => `pkg:npm/%40scope/component-${i}@${1 + (i % 7)}.${i % 100}.${i % 13}`;
  for (let i = 0; i < count; i++) {
    const c = {
      type: 'library', 'bom-ref': ref(i), group: '@scope', name: `component-${i}`, version: `${1 + (i % 7)}.${i % 100}.${i % 13}`,
      description: 'A generated component for the SBOM validation benchmark.', purl: ref(i),
      licenses: [{ license: { id: i % 3 === 0 ? 'Apache-2.0' : 'MIT' } }],
      hashes: [{ alg: 'SHA-256', content: (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(8) }],
    };
    await emit(`${i ? ',' : ''}${JSON.stringify(c)}`);
  }
  await emit('],"dependencies":[{"ref":"root","dependsOn":["' + ref(0) + '"]}');
  for (let i = 0; i < count; i++) await emit(`,${JSON.stringify({ ref: ref(i), dependsOn: i + 1 < count ? [ref(i + 1)] : [] })}`);
  await emit(']}');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { size, components: count };
}

async function prepare(dir: string): Promise<void> {
  const { npmSbom } = await import('../test/support/sbom-fixtures.js');
  const { buildZip } = await import('../test/support/zip-writer.js');
  const started = performance.now();
  const big = await writeBigBom(join(dir, 'big.cdx.json'), TARGET_MB * MiB);
  const spdx = JSON.parse(await npmSbom('spdx')) as Record<string, unknown>;
  const cdx = JSON.parse(await npmSbom('cyclonedx')) as Record<string, unknown>;
  const entries = Array.from({ length: ZIP_FILES }, (_, i) => {
    const doc = i % 2 === 0
      ? { ...spdx, name: `service-${i}`, documentNamespace: `http://spdx.org/spdxdocs/service-${i}` }
      : { ...cdx, serialNumber: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}` };
    return { name: `sboms/service-${i}.${i % 2 === 0 ? 'spdx' : 'cdx'}.json`, data: JSON.stringify(doc, null, 2), method: 'deflate' as const };
  });
  const zip = buildZip(entries);
  await writeFile(join(dir, 'bundle.zip'), zip);
  await writeFile(join(dir, 'small.spdx.json'), JSON.stringify(spdx));
  const uncompressed = entries.reduce((n, e) => n + Buffer.byteLength(e.data), 0);
  console.log(`inputs: ${mb(big.size)} CycloneDX 1.6 BOM with ${big.components.toLocaleString()} components; zip of ${ZIP_FILES} SBOMs ${mb(zip.length)} (${mb(uncompressed)} uncompressed); generated in ${ms(performance.now() - started)}`);
}

async function stageDocInline(dir: string): Promise<Record<string, unknown>> {
  const { validateSbomFile } = await import('../src/domain/sbom/validate-file.js');
  const bytes = await readFile(join(dir, 'big.cdx.json'));
  const rssBefore = peakRss();
  const started = performance.now();
  const result = validateSbomFile('big.cdx.json', bytes);
  return { stage: 'doc-inline', result: result.validationResult, ms: performance.now() - started, peakRss: peakRss(), rssBefore, input: bytes.length };
}

async function silentLogger() {
  const { default: pino } = await import('pino');
  return pino({ level: 'silent' });
}

async function validateLikeTheServer(dir: string, file: string): Promise<{ results: { validationResult: string }[]; ms: number; threadStartMs: number }> {
  const { sbomFilesOf } = await import('../src/workers/sbom-archive.js');
  const { SbomValidationThreads } = await import('../src/workers/sbom-validation-threads.js');
  const { DEFAULT_SBOM_VALIDATION_SETTINGS: settings } = await import('../src/workers/sbom-validation-worker.js');
  const threads = new SbomValidationThreads(settings.maxConcurrentValidations, settings.validationTimeoutMs, await silentLogger());
  // Start the threads first (and compile the schemas) so the figure is the validation itself.
  const warm = performance.now();
  await Promise.all([threads.validate('w.json', Buffer.from('{"bomFormat":"CycloneDX","specVersion":"1.6"}')), threads.validate('w2.json', Buffer.from('{"bomFormat":"CycloneDX","specVersion":"1.5"}'))]);
  const threadStartMs = performance.now() - warm;
  const data = await readFile(join(dir, file));
  const started = performance.now();
  const results = [];
  // The server reads the object as a stream of 64 KiB chunks, as from the object store.
  const chunks = function* () {
    for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
  };
  for await (const item of sbomFilesOf({ key: `bench/${file}`, size: data.length, body: Readable.from(chunks()) }, settings, dir)) {
    results.push('result' in item ? item.result : await threads.validate(item.fileName, item.bytes));
  }
  const elapsed = performance.now() - started;
  await threads.close();
  return { results, ms: elapsed, threadStartMs };
}

async function stageThreads(dir: string, stage: string, file: string): Promise<Record<string, unknown>> {
  const { results, ms: elapsed, threadStartMs } = await validateLikeTheServer(dir, file);
  const ok = results.filter((r) => r.validationResult === 'SUCCEEDED').length;
  return { stage, result: `${ok}/${results.length} SUCCEEDED`, ms: elapsed, threadStartMs, peakRss: peakRss() };
}

async function stageServer(dir: string): Promise<Record<string, unknown>> {
  const { startServer } = await import('../src/app.js');
  const { resolveConfig } = await import('../src/config/config.js');
  const { IoTClient, CreatePackageCommand, CreatePackageVersionCommand, AssociateSbomWithPackageVersionCommand, GetPackageVersionCommand } = await import('@aws-sdk/client-iot');
  const { S3Client, CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const credentials = { accessKeyId: 'AKIABENCHMARK0000001', secretAccessKey: 'bench-secret-key-000000000000000000000000' };
  const dataDir = await mkdtemp(join(tmpdir(), 'fleetjobs-bench-sbom-'));
  const config = resolveConfig({ port: 0, dataDir }, { FLEETJOBS_ACCESS_KEY_ID: credentials.accessKeyId, FLEETJOBS_SECRET_ACCESS_KEY: credentials.secretAccessKey });
  const server = await startServer({ config, logger: await silentLogger() });
  const iot = new IoTClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const out: Record<string, unknown> = { stage: 'server' };
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'sboms' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'sboms', VersioningConfiguration: { Status: 'Enabled' } }));
    await iot.send(new CreatePackageCommand({ packageName: 'fw' }));
    let n = 0;
    const roundTrip = async (file: string, probeLatency = false) => {
      const versionName = `v${n++}`;
      await iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName }));
      const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: 'sboms', Key: file, Body: await readFile(join(dir, file)) }));
      const started = performance.now();
      await iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'fw', versionName, sbom: { s3Location: { bucket: 'sboms', key: file, version: VersionId } } }));
      const latencies: number[] = [];
      // Poll as a client would; every poll is also a latency sample of the server while it validates.
      for (;;) {
        const t0 = performance.now();
        const got = await iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName }));
        latencies.push(performance.now() - t0);
        if (got.sbomValidationStatus !== 'IN_PROGRESS') {
          const total = performance.now() - started;
          latencies.sort((a, b) => a - b);
          return { status: got.sbomValidationStatus, ms: total, ...(probeLatency ? { getLatencyP50: latencies[Math.floor(latencies.length / 2)], getLatencyMax: latencies[latencies.length - 1], polls: latencies.length } : {}) };
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    out.coldSmall = await roundTrip('small.spdx.json'); // starts a validation thread (and compiles the SPDX schema)
    out.small = await roundTrip('small.spdx.json');
    out.zip = await roundTrip('bundle.zip');
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    out.big = await roundTrip('big.cdx.json', true);
    loop.disable();
    out.eventLoopDelayMaxMs = loop.max / 1e6;
    out.peakRss = peakRss();
  } finally {
    iot.destroy();
    s3.destroy();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  return out;
}

async function child(stage: string, dir: string): Promise<void> {
  const result = stage === 'doc-inline' ? await stageDocInline(dir)
    : stage === 'doc-threads' ? await stageThreads(dir, stage, 'big.cdx.json')
      : stage === 'zip-threads' ? await stageThreads(dir, stage, 'bundle.zip')
        : await stageServer(dir);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetjobs-bench-sbom-inputs-'));
  try {
    await prepare(dir);
    const self = fileURLToPath(import.meta.url);
    for (const stage of ['doc-inline', 'doc-threads', 'zip-threads', 'server']) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--stage', stage, '--dir', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * MiB });
      if (run.status !== 0) throw new Error(`stage ${stage} failed (exit ${run.status})`);
      const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, any>;
      if (stage === 'doc-inline') {
        console.log(`50 MB BOM, validated inline:        ${r.result} in ${ms(r.ms)}; peak RSS ${mb(r.peakRss)} (${mb(r.rssBefore)} with the file read)`);
      } else if (stage === 'doc-threads') {
        console.log(`50 MB BOM, as the server does:      ${r.result} in ${ms(r.ms)} (thread start + schema compile ${ms(r.threadStartMs)} before); peak RSS ${mb(r.peakRss)}`);
      } else if (stage === 'zip-threads') {
        console.log(`zip of ${ZIP_FILES} SBOMs, as the server does: ${r.result} in ${ms(r.ms)} (thread start ${ms(r.threadStartMs)} before); peak RSS ${mb(r.peakRss)}`);
      } else {
        const line = (label: string, x: { status: string; ms: number }) => console.log(`server, association → ${x.status.padEnd(9)} ${label}: ${ms(x.ms)}`);
        line('small SPDX, first (thread start)', r.coldSmall);
        line('small SPDX', r.small);
        line(`zip of ${ZIP_FILES} SBOMs`, r.zip);
        line('50 MB BOM', r.big);
        console.log(`server while validating the 50 MB BOM: GetPackageVersion p50 ${r.big.getLatencyP50.toFixed(1)} ms, max ${r.big.getLatencyMax.toFixed(1)} ms over ${r.big.polls} polls; event-loop delay max ${r.eventLoopDelayMaxMs.toFixed(0)} ms`);
        console.log(`server peak RSS: ${mb(r.peakRss)}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (args.has('stage')) await child(args.get('stage')!, args.get('dir')!);
else await main();
