/**
 * The devices of `npm run bench:mqtt`, in a process of their own so the server's CPU and memory
 * are its own: the simulator's Fleet (the same devices as `fleetjobs simulate`), registered
 * through the control plane in groups unless told not to. Prints one JSON line per event:
 * registered, provisioned (with mutual TLS: a certificate per device), connected, done (every
 * device ended `expect` jobs); stops when stdin closes.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { resolveClientTarget } from '../src/cli/client.js';
import { systemClock } from '../src/clock.js';
import { provisionDeviceCertificates } from '../src/simulator/certificates.js';
import { Fleet, type FleetOptions } from '../src/simulator/fleet.js';
import { registerFleet, simulatedThingNames } from '../src/simulator/registration.js';

interface Args {
  broker: string;
  endpoint?: string;
  groups: { name: string; count: number }[];
  workMs: number;
  connectRate: number;
  expect: number;
  /** Mutual TLS: each device gets a certificate (CreateCertificateFromCsr, AttachThingPrincipal) and connects to an mqtts:// broker whose CA this file holds. */
  caFile?: string;
}

const args = JSON.parse(process.argv[2]) as Args;
const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const began = Date.now();
const things: string[] = [];
for (const g of args.groups) things.push(...simulatedThingNames(g.name, g.count));
if (args.endpoint) {
  const target = resolveClientTarget({ endpoint: args.endpoint });
  for (const g of args.groups) await registerFleet(target, g.name, simulatedThingNames(g.name, g.count));
  say({ event: 'registered', seconds: (Date.now() - began) / 1000 });
}
let tls: FleetOptions['tls'];
if (args.caFile) {
  if (!args.endpoint) throw new Error('mutual TLS needs the endpoint that issues the device certificates');
  const provisioning = Date.now();
  const credentials = await provisionDeviceCertificates(resolveClientTarget({ endpoint: args.endpoint }), things);
  const provisioned = Date.now();
  // Each device's TLS context (its key and certificate loaded, the CA it trusts) is made now, not in
  // the connect phase: a real device's TLS stack holds them loaded on its own CPU, while here that
  // work (~1 ms a device) would run on the cores the server's handshakes are measured on.
  const ca = readFileSync(args.caFile, 'utf8');
  const contexts = new Map<string, SecureContext>();
  for (const [thing, c] of credentials) contexts.set(thing, createSecureContext({ key: c.keyPem, cert: c.certPem, ca }));
  tls = { ca, credentials: (thing) => ({ secureContext: contexts.get(thing)! }) };
  say({ event: 'provisioned', seconds: (provisioned - provisioning) / 1000, contextSeconds: (Date.now() - provisioned) / 1000 });
}
const fleet = new Fleet({ brokerUrl: args.broker, things, behaviour: { failRate: 0, rejectRate: 0, hangRate: 0, workMs: args.workMs }, connectRate: args.connectRate, ...(tls ? { tls } : {}), clock: systemClock });
const connecting = Date.now();
await fleet.start();
say({ event: 'connected', connected: fleet.stats.connected, failures: fleet.stats.connectFailures, seconds: (Date.now() - connecting) / 1000, rssMb: Math.round(process.memoryUsage().rss / 1e6) });
const target = things.length * args.expect;
const done = () => fleet.stats.succeeded + fleet.stats.failed + fleet.stats.rejected >= target;
await new Promise<void>((resolve) => {
  if (done()) resolve();
  fleet.onChange(() => done() && resolve());
});
say({ event: 'done', ...fleet.stats, refusals: fleet.stats.refusals, rssMb: Math.round(process.memoryUsage().rss / 1e6), cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 });
process.stdin.resume();
process.stdin.on('end', () => {
  void fleet.stop().then(() => process.exit(0));
});
