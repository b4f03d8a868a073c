import type { ClockControl } from '../../test-mode/clock-control.js';
import type { TestModeReset } from '../../test-mode/reset.js';
import type { SeedLoader } from '../../test-mode/seed.js';
import type { RouteDefinition } from '../http/route.js';

export interface TestModeFeatures {
  clock: ClockControl;
  reset: TestModeReset;
  seeds: SeedLoader;
}

/**
 * `--test-mode` endpoints under `/_fleetjobs/`, served with the control plane (signed for `iot`;
 * unsigned with `--no-auth`). They exist only in test mode: otherwise these paths are unknown.
 */
export function testModeRoutes(f: TestModeFeatures): RouteDefinition[] {
  const json = (body: unknown) => ({ status: 200, body });
  return [
    { method: 'GET', path: '/_fleetjobs/clock', operation: 'GetClock', handler: () => json(f.clock.state()) },
    { method: 'POST', path: '/_fleetjobs/clock', operation: 'SetClock', handler: async ({ body }) => json(await f.clock.change(body)) },
    { method: 'POST', path: '/_fleetjobs/reset', operation: 'Reset', handler: async () => json(await f.reset.reset()) },
    { method: 'POST', path: '/_fleetjobs/seed', operation: 'Seed', handler: async ({ body }) => json(await f.seeds.load(body)) },
    // moto's server mode: suites that reset moto between tests switch by changing the endpoint.
    ...motoResetRoutes(f.reset),
  ];
}

/** `POST /moto-api/reset`, signed or not (moto's takes unsigned requests): answers `{"status":"ok"}` as moto does. */
export function motoResetRoutes(reset: TestModeReset): RouteDefinition[] {
  return [{ method: 'POST', path: '/moto-api/reset', operation: 'MotoReset', handler: async () => ({ status: 200, body: await reset.reset() }) }];
}
