import type { ClockControl } from '../../test-mode/clock-control.js';
import type { RouteDefinition } from '../http/route.js';

/**
 * `--test-mode` endpoints under `/_fleetjobs/`, served with the control plane (signed for `iot`;
 * unsigned with `--no-auth`). They exist only in test mode: otherwise these paths are unknown.
 */
export function testModeRoutes(clock: ClockControl): RouteDefinition[] {
  const json = (body: unknown) => ({ status: 200, body });
  return [
    { method: 'GET', path: '/_fleetjobs/clock', operation: 'GetClock', handler: () => json(clock.state()) },
    { method: 'POST', path: '/_fleetjobs/clock', operation: 'SetClock', handler: async ({ body }) => json(await clock.change(body)) },
  ];
}
