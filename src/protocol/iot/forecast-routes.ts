import type { RolloutForecastService } from '../../domain/jobs/rollout-forecast.js';
import type { RouteDefinition } from '../http/route.js';

/**
 * Beyond AWS, off its wire: the rollout forecast, signed for `iot` like the control plane. Its
 * times are ISO-8601 strings (it is read by people and scripts, not by an AWS SDK).
 */
export function forecastRoutes(forecasts: RolloutForecastService): RouteDefinition[] {
  return [
    {
      method: 'GET',
      path: '/_fleetjobs/jobs/:jobId/forecast',
      operation: 'GetRolloutForecast',
      handler: async ({ params }) => ({ status: 200, body: await forecasts.forecast({ jobId: params.jobId }) }),
    },
  ];
}
