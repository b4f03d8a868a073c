/**
 * npm run fuzz — the whole fuzz-and-attack suite (issue 8, item 8) against a fresh server on each
 * backend: signed requests with mutated inputs over every route of every API, fuzzed publishes over
 * every MQTT topic family (mqtt-fuzzer.ts), the SigV4 attacks
 * on a write of every API, and the device / control-plane race pairs. Prints what it sent and
 * every finding; exits 1 when it found anything. CI runs a bounded slice of the same code
 * (test/integration/fuzz-slice.test.ts).
 *   npm run fuzz [-- --iterations 30000 --publishes 8000 --refusals 1000 --trials 40 --seed 1 --backends sqlite,postgres]
 */
import { testBackends } from '../support/backends.js';
import { startTestServer } from '../support/server.js';
import { VirtualClock } from '../../src/clock.js';
import { fuzzMqtt, seedMqttFuzzTargets } from './mqtt-fuzzer.js';
import { runRacePairs } from './race-pairs.js';
import { checkRefusals } from './refusals.js';
import { fuzzRoutes, type Finding } from './route-fuzzer.js';
import { allRoutes } from './routes.js';
import { seedFuzzTargets } from './seed.js';
import { runSigV4Attacks } from './sigv4-attacks.js';
import { fuzzWebSocketUpgrades } from './websocket-fuzzer.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const ITERATIONS = Number(args.get('iterations') ?? 30_000);
const TRIALS = Number(args.get('trials') ?? 40);
const PUBLISHES = Number(args.get('publishes') ?? 8000);
const REFUSALS = Number(args.get('refusals') ?? 1000);
const SEED = Number(args.get('seed') ?? Date.now() % 100_000);
if (args.has('backends')) process.env.FLEETJOBS_TEST_BACKENDS = args.get('backends');

let total = 0;
const all: (Finding & { backend: string })[] = [];
console.log(`fuzz: seed ${SEED}, ${ITERATIONS} fuzzed requests over ${allRoutes().length} routes, ${TRIALS} trials per race pair`);
for (const backend of await testBackends()) {
  if (backend.skip) {
    console.log(`fuzz: ${backend.name} skipped: ${backend.skip}`);
    continue;
  }
  const rateClock = new VirtualClock(Date.now());
  const t = await startTestServer(backend, { rateClock });
  try {
    await seedFuzzTargets(t);
    await seedMqttFuzzTargets(t, 4);
    const started = performance.now();
    const routes = await fuzzRoutes(t.url, { iterations: ITERATIONS, seed: SEED });
    const publishes = await fuzzMqtt(t, { iterations: PUBLISHES, seed: SEED, workers: 4, rateClock });
    const upgrades = await fuzzWebSocketUpgrades(t, { iterations: Math.ceil(PUBLISHES / 4), seed: SEED });
    const refusals = await checkRefusals(t, { iterations: REFUSALS, seed: SEED });
    const attacks = await runSigV4Attacks(t);
    const races = await runRacePairs(t, { trials: TRIALS, seed: SEED });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const statuses = Object.entries(routes.byStatus).sort().map(([s, n]) => `${s}:${n}`).join(' ');
    const replies = `${publishes.replies.accepted} accepted, ${publishes.replies.rejected} rejected, ${publishes.closed} closed`;
    console.log(`fuzz: ${backend.name}: ${routes.sent} fuzzed requests (${statuses}), ${publishes.sent} fuzzed publishes (${replies}), ${upgrades.sent} WebSocket upgrades, ${refusals.sent} writes checked one by one (${refusals.refused} refused), ${attacks.sent} SigV4 attacks, ${races.sent} racing calls in ${seconds}s`);
    for (const f of [...routes.findings, ...publishes.findings, ...upgrades.findings, ...refusals.findings, ...attacks.findings, ...races.findings]) all.push({ ...f, backend: backend.name });
    total += routes.sent + publishes.sent + upgrades.sent + refusals.sent + attacks.sent + races.sent;
  } finally {
    await t.close();
  }
}
for (const f of all) console.log(`FINDING [${f.backend}] ${f.kind}: ${f.request}\n    ${f.detail}`);
console.log(`fuzz: ${total} requests, ${all.length} findings (seed ${SEED})`);
process.exitCode = all.length === 0 ? 0 : 1;
