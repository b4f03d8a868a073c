/**
 * The dynamic-group part of `npm run bench:index` (issue 12): on the seeded, indexed registry,
 * - shadow updates per second (`$package`, through the SDK over HTTP, a few in flight) with no
 *   dynamic group, then with 20 dynamic groups whose queries all read `$package` (so every update
 *   checks all 20), and the ratio: once with versions that change at every update (it moves the
 *   thing between groups), once re-reporting the same versions;
 * - how long the 20 groups took to sweep the registry (Create → ACTIVE);
 * - the time for a `$package` change to move a thing between two dynamic groups: the
 *   UpdateThingShadow request itself, since membership moves in its transaction (checked after).
 */
import { CreateDynamicThingGroupCommand, DeleteDynamicThingGroupCommand, DescribeThingGroupCommand, ListThingGroupsForThingCommand } from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { Backend } from '../test/support/backends.js';
import { iotDataClient } from '../test/support/iot-data.js';
import type { TestServer } from '../test/support/server.js';

const UPDATES = Number(process.env.INDEX_SHADOW_UPDATES ?? 3000);
const IN_FLIGHT = 8;
const DYNAMIC_GROUPS = 20;
const MOVES = 100;
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
const pad = (n: number) => String(n).padStart(6, '0');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function packagePayload(agent: string, fw: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ state: { reported: { agent: { version: agent }, fw: { version: fw } } } }));
}

/** UPDATES `$package` updates of spread-out things, IN_FLIGHT at a time; updates per second. */
async function shadowUpdateRate(data: IoTDataPlaneClient, things: number, round: number): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    for (let i = next++; i < UPDATES; i = next++) {
      const n = ((i * 7919 + round * 104729) % things) + 1;
      await data.send(new UpdateThingShadowCommand({ thingName: `dev-${pad(n)}`, shadowName: '$package', payload: packagePayload(`2.0.${(n + round) % 3}`, `1.${(i + round) % 7}.0`) }));
    }
  }));
  return UPDATES / (ms(start) / 1000);
}

export async function measureDynamicGroups(t: TestServer, backend: Backend, things: number): Promise<void> {
  const data = iotDataClient(t);
  const tag = `[${backend.name}]`;
  try {
    await shadowUpdateRate(data, things, 0); // warm-up
    // A round's values differ from the previous round's (every update moves the thing between
    // groups: the worst case); the same round again re-reports them (memberships stay).
    const before = [await shadowUpdateRate(data, things, 1), await shadowUpdateRate(data, things, 1)];

    const start = process.hrtime.bigint();
    for (let g = 0; g < DYNAMIC_GROUPS; g++) {
      // Every query reads $package (and one a registry field too): each shadow update checks all 20.
      const queryString = g % 2 === 0
        ? `shadow.name.$package.reported.fw.version:1.${g % 7}.0 AND attributes.temp < ${10 + g * 4}`
        : `shadow.name.$package.reported.agent.version:2.0.${g % 3} AND NOT attributes.model:legacy`;
      await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: `dyn-${g}`, queryString }));
    }
    for (;;) {
      await t.server.engine.step();
      const statuses = await Promise.all(Array.from({ length: DYNAMIC_GROUPS }, (_, g) => t.iot.send(new DescribeThingGroupCommand({ thingGroupName: `dyn-${g}` }))));
      if (statuses.every((s) => s.status === 'ACTIVE')) break;
    }
    const sweepMs = ms(start);
    console.log(`${tag} ${DYNAMIC_GROUPS} dynamic groups created and swept over ${things} things (Create → ACTIVE): ${sweepMs.toFixed(0)} ms`);

    const withGroups = [await shadowUpdateRate(data, things, 2), await shadowUpdateRate(data, things, 2)];
    // The groups go again, and the rate without them is measured a second time: the machine's load
    // drifts, and the two runs without bracket the one with.
    for (let g = 0; g < DYNAMIC_GROUPS; g++) await t.iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: `dyn-${g}` }));
    const after = [await shadowUpdateRate(data, things, 3), await shadowUpdateRate(data, things, 3)];
    const fewer = (a: number, b: number) => `${((1 - b / a) * 100).toFixed(1)}% fewer`;
    for (const [k, label] of [[0, 'versions changing (each update moves the thing between several of the groups)'], [1, 'versions re-reported (memberships stay)']] as const) {
      const without = (before[k] + after[k]) / 2;
      console.log(`${tag} $package shadow updates/s (${UPDATES} updates, ${IN_FLIGHT} in flight), ${label}: ${without.toFixed(0)} without dynamic groups (${before[k].toFixed(0)} before, ${after[k].toFixed(0)} after), ${withGroups[k].toFixed(0)} with ${DYNAMIC_GROUPS} (${fewer(without, withGroups[k])}; goal ≤ 30%)`);
    }

    // Moves: a thing's agent 2.0.0 ↔ 2.0.1 takes it between `agent-200` and `agent-201`.
    await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'agent-200', queryString: 'shadow.name.$package.reported.agent.version:2.0.0' }));
    await t.iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'agent-201', queryString: 'shadow.name.$package.reported.agent.version:2.0.1' }));
    for (;;) {
      await t.server.engine.step();
      const s = await Promise.all(['agent-200', 'agent-201'].map((thingGroupName) => t.iot.send(new DescribeThingGroupCommand({ thingGroupName }))));
      if (s.every((x) => x.status === 'ACTIVE')) break;
    }
    const moves: number[] = [];
    for (let i = 0; i < MOVES; i++) {
      const thingName = `dev-${pad(((i * 15485863) % things) + 1)}`;
      const version = i % 2 === 0 ? '2.0.0' : '2.0.1';
      const s0 = process.hrtime.bigint();
      await data.send(new UpdateThingShadowCommand({ thingName, shadowName: '$package', payload: packagePayload(version, '1.0.0') }));
      moves.push(ms(s0));
      const groups = (await t.iot.send(new ListThingGroupsForThingCommand({ thingName }))).thingGroups!.map((g) => g.groupName);
      if (!groups.includes(version === '2.0.0' ? 'agent-200' : 'agent-201')) throw new Error(`${thingName} did not move to agent-${version.replace(/\./g, '')}`);
    }
    moves.sort((a, b) => a - b);
    console.log(`${tag} a $package change moving a thing between dynamic groups (the update request; membership moves in it): p50 ${percentile(moves, 50).toFixed(1)} ms  p99 ${percentile(moves, 99).toFixed(1)} ms`);
  } finally {
    data.destroy();
  }
}
