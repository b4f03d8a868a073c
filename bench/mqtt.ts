/**
 * `npm run bench:mqtt`: simulated devices over MQTT, each running one job to SUCCEEDED, against
 * fleetjobs (embedded broker, a server process on SQLite or PostgreSQL) and against a bare aedes
 * that answers the same requests at once (bench/bare-broker.mjs): the ratio is what the jobs logic
 * costs. Devices are in groups of 1,000 (AWS releases at most 1,000 a minute per job), one job per
 * group, all created at once. Reports the time from the first CreateJob to the last SUCCEEDED,
 * executions per second, and the server's peak RSS and CPU seconds.
 *
 * `--tls` adds, in the same run, fleetjobs with `--tls` (its own CA in the data dir) and its MQTT
 * TLS listener: each device gets a certificate (its own P-256 key, CreateCertificateFromCsr,
 * AttachThingPrincipal) and connects with mutual TLS. It reports connects per second (the connect
 * phase alone, unpaced unless --connect-rate is given) and the end-to-end time for plain MQTT and
 * mTLS, and their ratios (issue 11's goal: at most 2× on connects, 20% end to end).
 *
 *   npm run bench:mqtt -- --devices 1000,10000 --backend sqlite --work-ms 0
 *   npm run bench:mqtt -- --tls --devices 1000 --skip-bare
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CreateJobCommand, IoTClient } from '@aws-sdk/client-iot';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import mqtt from 'mqtt';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.js';
import { CREDS, processCpuSeconds, startServer } from './harness.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000,10000' },
    backend: { type: 'string', default: 'sqlite' },
    'work-ms': { type: 'string', default: '0' },
    // Devices connected per second: 2000 by default; with --tls unpaced (256 at once), so that
    // connects per second measure what the server sustains.
    'connect-rate': { type: 'string' },
    'skip-bare': { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
  },
});
const sizes = values.devices.split(',').map(Number);
const GROUP = 1000;
const connectRate = Number(values['connect-rate'] ?? (values.tls ? 1e9 : 2000));

interface Run {
  label: string;
  devices: number;
  seconds: number;
  perSecond: number;
  serverCpuSeconds: number;
  serverPeakRssMb: number;
  devicesRssMb: number;
  connectSeconds: number;
  connectsPerSecond: number;
  /** The server's CPU ms per device during the connect phase (fleetjobs runs). */
  connectCpuMs?: number;
  /** With mutual TLS: how long provisioning the devices' certificates took. */
  provisionSeconds?: number;
  /** The server's peak RSS before the job phase: registration and connects (fleetjobs runs). */
  connectedPeakRssMb?: number;
}

/** Peak resident set of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number | undefined): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** The device process: its JSON event lines, one at a time. `caFile`, if given, is also what its HTTPS requests trust. */
function startDevices(args: Record<string, unknown>): { child: ChildProcess; next: (event: string) => Promise<Record<string, unknown>> } {
  // BENCH_DEVICES_CPU_PROFILE=DIR profiles the device process too (BENCH_CPU_PROFILE profiles the server).
  const profile = process.env.BENCH_DEVICES_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_DEVICES_CPU_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--max-old-space-size=4096', '--import', 'tsx', 'bench/mqtt-fleet.ts', JSON.stringify(args)], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey, ...(typeof args.caFile === 'string' ? { NODE_EXTRA_CA_CERTS: args.caFile } : {}) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const queue: Record<string, unknown>[] = [];
  const waiters: ((e: Record<string, unknown>) => void)[] = [];
  lines.on('line', (l) => {
    const e = JSON.parse(l) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(e);
    else queue.push(e);
  });
  const next = async (event: string) => {
    for (;;) {
      const e = queue.shift() ?? (await new Promise<Record<string, unknown>>((resolve, reject) => {
        waiters.push(resolve);
        child.once('exit', (code) => reject(new Error(`device process exited with ${code}`)));
      }));
      if (e.event === event) return e;
    }
  };
  return { child, next };
}

async function stopDevices(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.stdin!.end();
  await exited;
}

function groupsOf(prefix: string, devices: number) {
  return Array.from({ length: Math.ceil(devices / GROUP) }, (_, i) => ({ name: `${prefix}${i + 1}`, count: Math.min(GROUP, devices - i * GROUP) }));
}

async function fleetjobsRun(devices: number, tls = false): Promise<Run> {
  // --tls: HTTPS and the MQTT TLS listener, with the CA and server certificate the server makes in its data dir.
  const server = await startServer(values.backend, tls ? { FLEETJOBS_TLS: '1', FLEETJOBS_MQTT_TLS_PORT: '0' } : {});
  try {
    const caFile = tls ? join(server.dataDir, 'tls', 'ca.pem') : undefined;
    const broker = tls ? server.mqttTlsUrl : server.mqttUrl;
    if (!broker) throw new Error('the server opened no MQTT listener for this run');
    const groups = groupsOf(`bench-${devices}-`, devices);
    const fleet = startDevices({ broker, endpoint: server.url, groups, workMs: Number(values['work-ms']), connectRate, expect: 1, ...(caFile ? { caFile } : {}) });
    await fleet.next('registered');
    const provisioned = caFile ? await fleet.next('provisioned') : undefined;
    // The connect phase starts now: the server's CPU per connect is the figure other load on the machine blurs least.
    const connectCpu0 = processCpuSeconds(server.child.pid);
    const connected = await fleet.next('connected');
    const connectCpuMs = ((processCpuSeconds(server.child.pid) - connectCpu0) * 1000) / devices;
    const connectedPeakRssMb = peakRssMb(server.child.pid);
    if (Number(connected.failures) > 0) throw new Error(`${String(connected.failures)} of ${devices} devices could not connect`);
    const requestHandler = caFile ? { requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: readFileSync(caFile, 'utf8') }) }) } : {};
    const iot = new IoTClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1, ...requestHandler });
    const cpu0 = processCpuSeconds(server.child.pid);
    const t0 = Date.now();
    await Promise.all(groups.map((g) => iot.send(new CreateJobCommand({ jobId: `job-${g.name}`, targets: [`arn:aws:iot:us-east-1:123456789012:thinggroup/${g.name}`], document: '{"step":"install"}' }))));
    const done = await fleet.next('done');
    const seconds = (Number(done.lastEndedAt) - t0) / 1000;
    const run: Run = {
      label: `fleetjobs (${values.backend}${tls ? ', mTLS' : ''})`,
      devices,
      seconds,
      perSecond: Math.round(devices / seconds),
      serverCpuSeconds: Math.round((processCpuSeconds(server.child.pid) - cpu0) * 100) / 100,
      serverPeakRssMb: peakRssMb(server.child.pid),
      devicesRssMb: Number(done.rssMb),
      connectSeconds: Number(connected.seconds),
      connectsPerSecond: Math.round(devices / Number(connected.seconds)),
      connectCpuMs,
      connectedPeakRssMb,
      ...(provisioned ? { provisionSeconds: Number(provisioned.seconds) } : {}),
    };
    if (Number(done.succeeded) !== devices) throw new Error(`only ${String(done.succeeded)} of ${devices} succeeded: ${JSON.stringify(done)}`);
    iot.destroy();
    await stopDevices(fleet.child);
    return run;
  } finally {
    await server.cleanup();
  }
}

async function bareRun(devices: number): Promise<Run> {
  // With the server's V8 flags, so that the ratio is the jobs logic's cost, not the runtime's.
  const broker = spawn(process.execPath, [...SERVER_NODE_FLAGS, 'bench/bare-broker.mjs'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const first = await new Promise<string>((resolve) => createInterface({ input: broker.stdout! }).once('line', resolve));
    const url = /(mqtt:\/\/\S+)/.exec(first)![1];
    const fleet = startDevices({ broker: url, groups: groupsOf(`bare-${devices}-`, devices), workMs: Number(values['work-ms']), connectRate, expect: 1 });
    const connected = await fleet.next('connected');
    const control = await mqtt.connectAsync(url, { clientId: 'bench-control' });
    const cpu0 = processCpuSeconds(broker.pid);
    const t0 = Date.now();
    await control.publishAsync('bench/go', '', { qos: 1 });
    const done = await fleet.next('done');
    const seconds = (Number(done.lastEndedAt) - t0) / 1000;
    await control.endAsync();
    await stopDevices(fleet.child);
    return {
      label: 'bare aedes',
      devices,
      seconds,
      perSecond: Math.round(devices / seconds),
      serverCpuSeconds: Math.round((processCpuSeconds(broker.pid) - cpu0) * 100) / 100,
      serverPeakRssMb: peakRssMb(broker.pid),
      devicesRssMb: Number(done.rssMb),
      connectSeconds: Number(connected.seconds),
      connectsPerSecond: Math.round(devices / Number(connected.seconds)),
    };
  } finally {
    broker.kill('SIGTERM');
  }
}

const runs: Run[] = [];
for (const n of sizes) {
  const fj = await fleetjobsRun(n);
  runs.push(fj);
  console.log(`${n} devices, fleetjobs: ${fj.seconds.toFixed(2)} s from the first CreateJob to the last SUCCEEDED, ${fj.perSecond} executions/s, server ${fj.serverCpuSeconds} CPU s, peak RSS ${fj.serverPeakRssMb} MB (${fj.connectedPeakRssMb} MB before the job phase)`);
  if (values.tls) {
    const tls = await fleetjobsRun(n, true);
    runs.push(tls);
    console.log(`${n} devices, fleetjobs over mTLS: ${tls.seconds.toFixed(2)} s from the first CreateJob to the last SUCCEEDED, ${tls.perSecond} executions/s, server ${tls.serverCpuSeconds} CPU s, peak RSS ${tls.serverPeakRssMb} MB; certificates provisioned in ${tls.provisionSeconds!.toFixed(1)} s`);
    console.log(`${n} devices, connects: plain ${fj.connectsPerSecond}/s, mTLS ${tls.connectsPerSecond}/s: TLS costs ${(fj.connectsPerSecond / tls.connectsPerSecond).toFixed(2)}× (goal ≤ 2×), server CPU per connect ${fj.connectCpuMs!.toFixed(2)} ms plain, ${tls.connectCpuMs!.toFixed(2)} ms mTLS (${(tls.connectCpuMs! / fj.connectCpuMs!).toFixed(2)}×); end to end: plain ${fj.seconds.toFixed(2)} s, mTLS ${tls.seconds.toFixed(2)} s: ${(tls.seconds / fj.seconds).toFixed(2)}× (goal ≤ 1.20×)`);
  }
  if (!values['skip-bare']) {
    const bare = await bareRun(n);
    runs.push(bare);
    console.log(`${n} devices, bare aedes: ${bare.seconds.toFixed(2)} s, ${bare.perSecond} executions/s, broker ${bare.serverCpuSeconds} CPU s, peak RSS ${bare.serverPeakRssMb} MB; fleetjobs runs at ${Math.round((100 * fj.perSecond) / bare.perSecond)}% of the bare broker`);
  }
}
console.log('\n| devices | server | first CreateJob → last SUCCEEDED | executions/s | server CPU s | server peak RSS MB | devices connected in | device process RSS MB |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of runs) console.log(`| ${r.devices} | ${r.label} | ${r.seconds.toFixed(2)} s | ${r.perSecond} | ${r.serverCpuSeconds} | ${r.serverPeakRssMb} | ${r.connectSeconds.toFixed(1)} s | ${r.devicesRssMb} |`);
if (values.tls) {
  console.log(`\n| devices | connects/s plain | connects/s mTLS | TLS/plain (connects) | server CPU ms/connect plain | mTLS | end to end plain | end to end mTLS | mTLS/plain (end to end) |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const tls of runs.filter((r) => r.provisionSeconds !== undefined)) {
    const plain = runs.find((r) => r.devices === tls.devices && r.label === `fleetjobs (${values.backend})`)!;
    console.log(`| ${tls.devices} | ${plain.connectsPerSecond} | ${tls.connectsPerSecond} | ${(plain.connectsPerSecond / tls.connectsPerSecond).toFixed(2)}× | ${plain.connectCpuMs!.toFixed(2)} | ${tls.connectCpuMs!.toFixed(2)} | ${plain.seconds.toFixed(2)} s | ${tls.seconds.toFixed(2)} s | ${(tls.seconds / plain.seconds).toFixed(2)}× |`);
  }
}
