import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VirtualClock } from '../../src/clock.js';
import { fuzzMqtt, seedMqttFuzzTargets } from '../fuzz/mqtt-fuzzer.js';
import { runRacePairs } from '../fuzz/race-pairs.js';
import { checkRefusals } from '../fuzz/refusals.js';
import { fuzzRoutes, type Finding } from '../fuzz/route-fuzzer.js';
import { seedFuzzTargets } from '../fuzz/seed.js';
import { ATTACK_NAMES, runSigV4Attacks } from '../fuzz/sigv4-attacks.js';
import { fuzzWebSocketUpgrades } from '../fuzz/websocket-fuzzer.js';
import { testBackends } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** The findings, one per line, so that a failure says what to reproduce with `npm run fuzz`. */
const listed = (findings: Finding[]) => findings.map((f) => `${f.kind}: ${f.request}\n    ${f.detail}`).join('\n');

/**
 * A bounded slice of `npm run fuzz` (issue 8, item 8), with fixed seeds so that CI is
 * reproducible: fuzzed signed requests over every route, every SigV4 attack on a write of every
 * API, and the race pairs. Nothing it finds may land.
 */
for (const backend of await testBackends()) {
  describe(`fuzz and attack slice (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestServer;
    // The broker's per-client rates run on this clock; the MQTT fuzz moves it (decision 0042).
    const rateClock = new VirtualClock(Date.now());
    before(async () => {
      t = await startTestServer(backend, { rateClock });
      await seedFuzzTargets(t);
      await seedMqttFuzzTargets(t, 4);
    });
    after(async () => t?.close());

    it('answers 2,000 fuzzed signed requests over every route with AWS-shaped answers and no 5xx', async () => {
      const report = await fuzzRoutes(t.url, { iterations: 2000, seed: 1 });
      assert.equal(report.findings.length, 0, listed(report.findings));
      assert.equal(report.sent, 2000);
      // The fuzz reaches the domain, not only the validators: some requests succeed.
      assert.ok((report.byStatus[200] ?? 0) > 100, JSON.stringify(report.byStatus));
    });

    it('leaves every table as it was after each of 150 fuzzed writes it refuses', async () => {
      const report = await checkRefusals(t, { iterations: 150, seed: 1 });
      assert.equal(report.findings.length, 0, listed(report.findings));
      assert.ok(report.refused > 75, `${report.refused} of ${report.sent} refused`);
    });

    it('answers 800 fuzzed publishes over every MQTT topic family, and a refused one changes nothing', async () => {
      const report = await fuzzMqtt(t, { iterations: 800, seed: 1, workers: 4, rateClock });
      assert.equal(report.findings.length, 0, listed(report.findings));
      assert.equal(report.sent, 800);
      // The fuzz reaches the services: some requests are accepted, some rejected, some connections closed.
      assert.ok(report.replies.accepted > 50 && report.replies.rejected > 50 && report.closed > 20, JSON.stringify(report));
    });

    it('answers 200 mutated presigned URLs on the MQTT WebSocket door with 4xx AWS errors', async () => {
      const report = await fuzzWebSocketUpgrades(t, { iterations: 200, seed: 1 });
      assert.equal(report.findings.length, 0, listed(report.findings));
    });

    it('refuses every SigV4 attack on a write of every API, and no write happens', async () => {
      const report = await runSigV4Attacks(t);
      assert.equal(report.findings.length, 0, listed(report.findings));
      assert.ok(report.sent >= ATTACK_NAMES.length * 3, `${report.sent} attacks sent`);
    });

    it('keeps every counter exact under the race pairs', async () => {
      const report = await runRacePairs(t, { trials: 10, seed: 1 });
      assert.equal(report.findings.length, 0, listed(report.findings));
    });
  });
}
