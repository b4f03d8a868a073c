import { EXPECTED, run, start, stop } from '../shared-scenario.mjs';

// Jest's globals (beforeAll, test, expect), in ESM mode (NODE_OPTIONS=--experimental-vm-modules).
let ctx;
beforeAll(async () => (ctx = await start()));
afterAll(async () => stop(ctx));

test('fleetjobs/testing under Jest: seed, a paced rollout over a moved clock, reset', async () => {
  expect(await run(ctx)).toEqual(EXPECTED);
});
