import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { systemClock } from '../clock.js';
import { provisionDeviceCertificates } from '../simulator/certificates.js';
import { Fleet, type FleetOptions, type FleetStats } from '../simulator/fleet.js';
import { registerFleet, RegistrationError, simulatedThingNames } from '../simulator/registration.js';
import { ClientError, resolveClientTarget, signedJson, type ClientTarget } from './client.js';

interface SimulateFlags {
  devices: string;
  group: string;
  endpoint?: string;
  broker?: string;
  ca?: string;
  mtls?: boolean;
  failRate: string;
  rejectRate: string;
  hangRate: string;
  workMs: string;
  connectRate: string;
  exitWhenIdle?: string;
  json?: boolean;
}

/**
 * `fleetjobs simulate --devices N --group NAME …`: N devices in a thing group, registered through
 * the control plane and connected over MQTT, taking and running every job they are sent. Tests,
 * the benchmark and users rehearsing a rollout all use it.
 */
export function simulateCommand(): Command {
  return new Command('simulate')
    .description('simulate a fleet of MQTT devices in a thing group that run every job they are sent')
    .requiredOption('--devices <n>', 'how many devices')
    .requiredOption('--group <name>', 'the thing group they are in (created if missing); things are named {group}-000001 …')
    .option('--endpoint <url>', 'the server (else AWS_ENDPOINT_URL, else http://127.0.0.1:8080)')
    .option('--broker <url>', 'the MQTT broker (else the DescribeEndpoint host, port 1883; with --mtls mqtts:// on port 8883)')
    .option('--ca <file>', 'the CA (PEM) the broker\'s (mqtts://) and the endpoint\'s (https://) certificates are checked against, e.g. <data-dir>/tls/ca.pem of serve --tls')
    .option('--mtls', 'give each device its own certificate through the control plane (CreateCertificateFromCsr, AttachThingPrincipal) and connect it with mutual TLS; needs an mqtts:// broker')
    .addOption(new Option('--fail-rate <p>', 'share of jobs a device reports FAILED').default('0'))
    .addOption(new Option('--reject-rate <p>', 'share of jobs a device rejects').default('0'))
    .addOption(new Option('--hang-rate <p>', 'share of jobs a device never finishes').default('0'))
    .addOption(new Option('--work-ms <ms>', 'how long each job\'s work takes').default('1000'))
    .addOption(new Option('--connect-rate <r>', 'devices connected per second').default('500'))
    .option('--exit-when-idle <seconds>', 'stop once nothing has happened for this long (else run until Ctrl-C)')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: SimulateFlags) => {
      try {
        process.exitCode = await simulate(flags);
      } catch (err) {
        if (!(err instanceof ClientError || err instanceof RegistrationError || err instanceof TypeError)) throw err;
        process.stderr.write(`fleetjobs simulate: ${err.message}\n`);
        process.exitCode = 2;
      }
    });
}

function rate(text: string, flag: string): number {
  const v = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || v < 0 || v > 1) throw new ClientError(`${flag} takes a share from 0 to 1, not ${text}`);
  return v;
}

function whole(text: string, flag: string, min: number): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || v < min) throw new ClientError(`${flag} takes a whole number of at least ${min}, not ${text}`);
  return v;
}

async function simulate(flags: SimulateFlags): Promise<number> {
  const devices = whole(flags.devices, '--devices', 1);
  const behaviour = {
    failRate: rate(flags.failRate, '--fail-rate'),
    rejectRate: rate(flags.rejectRate, '--reject-rate'),
    hangRate: rate(flags.hangRate, '--hang-rate'),
    workMs: whole(flags.workMs, '--work-ms', 0),
  };
  if (behaviour.rejectRate + behaviour.hangRate > 1) throw new ClientError('--reject-rate and --hang-rate add up to more than 1');
  const connectRate = whole(flags.connectRate, '--connect-rate', 1);
  const idleSeconds = flags.exitWhenIdle === undefined ? undefined : whole(flags.exitWhenIdle, '--exit-when-idle', 1);
  if (!/^[a-zA-Z0-9:_-]{1,100}$/.test(flags.group)) throw new ClientError(`invalid group name: ${flags.group}`);

  if (flags.mtls && flags.broker !== undefined && !flags.broker.startsWith('mqtts://')) {
    throw new ClientError(`--mtls connects devices with mutual TLS, so it needs an mqtts:// broker, not ${flags.broker}`);
  }
  const ca = flags.ca === undefined ? undefined : readCa(flags.ca);
  const target: ClientTarget = { ...resolveClientTarget(flags), ...(ca !== undefined ? { ca } : {}) };
  const brokerUrl = flags.broker ?? (await brokerFromEndpoint(target, flags.mtls === true));
  const things = simulatedThingNames(flags.group, devices);
  const tty = process.stderr.isTTY === true;
  const began = Date.now();

  if (tty) process.stderr.write(`Registering ${devices} things in ${flags.group} at ${target.endpoint.origin} …\n`);
  await registerFleet(target, flags.group, things);
  const tls = await deviceTls(target, things, ca, flags.mtls === true, tty);

  const fleet = new Fleet({ brokerUrl, things, behaviour, connectRate, clock: systemClock, ...(tls ? { tls } : {}) });
  const bar = new cliProgress.SingleBar(
    {
      format: 'devices {bar} {value}/{total} connected | in progress {inProgress} | succeeded {succeeded} | failed {failed} | rejected {rejected} | hung {hung}',
      hideCursor: true,
      stream: process.stderr,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  if (tty) bar.start(devices, 0, payload(fleet.stats));
  fleet.onChange(() => tty && bar.update(fleet.stats.connected, payload(fleet.stats)));

  let interrupted = false;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      interrupted = true;
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await Promise.race([fleet.start(), stopped]);
  if (!interrupted) {
    process.stdout.write(`fleetjobs simulate: ${fleet.stats.connected} of ${devices} devices connected to ${brokerUrl}\n`);
    await Promise.race([idleSeconds === undefined ? new Promise<never>(() => undefined) : fleet.idleFor(idleSeconds), stopped]);
  }
  await fleet.stop();
  if (tty) bar.stop();
  process.stdout.write(summary(fleet.stats, flags.group, brokerUrl, (Date.now() - began) / 1000, flags.json === true, interrupted));
  // mqtt.js and fetch keep no handles once every device has disconnected; exit now regardless.
  process.exit(0);
}

function payload(s: FleetStats) {
  return { inProgress: s.inProgress, succeeded: s.succeeded, failed: s.failed, rejected: s.rejected, hung: s.hung };
}

function summary(s: FleetStats, group: string, broker: string, seconds: number, json: boolean, interrupted: boolean): string {
  if (json) return `${JSON.stringify({ group, broker, seconds, stoppedBy: interrupted ? 'signal' : 'idle', ...s })}\n`;
  const refusals = Object.entries(s.refusals).map(([code, n]) => `${code} ${n}`).join(', ');
  return [
    `fleetjobs simulate: ${s.devices} devices in ${group}, ${seconds.toFixed(1)} s (stopped by ${interrupted ? 'a signal' : 'being idle'})`,
    `  connected     ${s.connected}${s.connectFailures ? ` (${s.connectFailures} could not connect)` : ''}`,
    `  succeeded     ${s.succeeded}`,
    `  failed        ${s.failed}`,
    `  rejected      ${s.rejected}`,
    `  hung          ${s.hung}`,
    `  in progress   ${s.inProgress}`,
    `  refusals      ${refusals || 'none'}`,
    '',
  ].join('\n');
}

/** `--ca`'s file, read once: a one-line usage error when it cannot be read or holds no certificate. */
function readCa(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClientError(`--ca ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ClientError(`--ca ${file}: holds no PEM certificate`);
  return text;
}

/**
 * What the devices' TLS needs: the CA to check the broker against, and with `--mtls` each
 * device's own key and certificate, made afresh on every run (the keys live only in this process,
 * so a certificate a thing already has cannot be reused; the earlier ones stay attached).
 */
async function deviceTls(target: ClientTarget, things: string[], ca: string | undefined, mtls: boolean, tty: boolean): Promise<FleetOptions['tls']> {
  if (!mtls) return ca !== undefined ? { ca } : undefined;
  if (tty) process.stderr.write(`Provisioning ${things.length} device certificates …\n`);
  const credentials = await provisionDeviceCertificates(target, things);
  return { ...(ca !== undefined ? { ca } : {}), credentials: (thing) => credentials.get(thing)! };
}

/**
 * The broker at the host DescribeEndpoint answers (iot:Data-ATS, as the Device SDKs use), on port
 * 1883, or with mutual TLS mqtts:// on 8883 (AWS's port, and `serve --tls`'s --mqtt-tls-port
 * default: DescribeEndpoint names no port for MQTT).
 */
async function brokerFromEndpoint(target: ClientTarget, mtls: boolean): Promise<string> {
  const res = await signedJson(target, 'GET', '/endpoint?endpointType=iot%3AData-ATS');
  const address = (res.json as { endpointAddress?: string } | undefined)?.endpointAddress;
  if (res.status !== 200 || !address) throw new ClientError(`DescribeEndpoint failed (HTTP ${res.status}); give --broker`);
  const host = new URL(`http://${address}`).hostname;
  return `${mtls ? 'mqtts' : 'mqtt'}://${host.includes(':') ? `[${host}]` : host}:${mtls ? 8883 : 1883}`;
}
