import { afterAll, beforeAll, expect, test } from 'vitest';
import { EXPECTED, run, start, stop } from '../shared-scenario.mjs';

let ctx;
beforeAll(async () => (ctx = await start()));
afterAll(async () => stop(ctx));

test('fleetjobs/testing under Vitest: seed, a paced rollout over a moved clock, reset', async () => {
  expect(await run(ctx)).toEqual(EXPECTED);
});
