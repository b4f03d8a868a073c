import { RolloutForecastService } from './domain/jobs/rollout-forecast.js';
import { MESSAGES as SHADOW_MESSAGES } from './domain/shadows/request-document.js';
import { metricsRoute, readyRoute, type OperatorSources } from './protocol/http/operator-routes.js';
import type { RouteDefinition, ServiceApi } from './protocol/http/route.js';
import { shadowRoutes } from './protocol/iot-data/shadow-routes.js';
import { billingGroupRoutes } from './protocol/iot/billing-group-routes.js';
import { certificateRoutes } from './protocol/iot/certificate-routes.js';
import { endpointRoutes } from './protocol/iot/endpoint-routes.js';
import { forecastRoutes } from './protocol/iot/forecast-routes.js';
import { indexingRoutes } from './protocol/iot/indexing-routes.js';
import { jobRoutes } from './protocol/iot/job-routes.js';
import { jobTemplateRoutes } from './protocol/iot/job-template-routes.js';
import { packageRoutes } from './protocol/iot/package-routes.js';
import { policyRoutes } from './protocol/iot/policy-routes.js';
import { tagRoutes } from './protocol/iot/tag-routes.js';
import { thingRoutes } from './protocol/iot/thing-routes.js';
import { jobsDataRoutes } from './protocol/jobs-data/jobs-data-routes.js';
import { testModeRoutes } from './protocol/test-mode/test-mode-routes.js';
import type { RegionCell } from './region-cell.js';
import type { ClockControl } from './test-mode/clock-control.js';
import type { TestModeReset } from './test-mode/reset.js';

/**
 * The APIs one region serves, on its own services: each feature adds its control-plane routes
 * here; the device planes and S3 are ServiceApis of their own (the HTTP door picks one by signing
 * name and path).
 */
export function serviceApis(
  cell: RegionCell,
  deps: { publicUrl: () => URL; operator: OperatorSources; s3?: ServiceApi; testMode?: { clock: ClockControl; reset: TestModeReset } },
): ServiceApi[] {
  const { catalog, registry, jobServices, jobTemplates } = cell.services;
  const iotRoutes: RouteDefinition[] = [
    ...packageRoutes(catalog),
    ...tagRoutes(cell.tags),
    ...thingRoutes(registry),
    ...billingGroupRoutes(registry.billingGroups),
    ...indexingRoutes(cell.services.fleetIndex, cell.services.aggregations, cell.services.dynamicGroups),
    ...certificateRoutes(cell.services.certificates),
    ...policyRoutes(cell.services.policies),
    ...jobRoutes(jobServices),
    ...jobTemplateRoutes(jobTemplates),
    ...endpointRoutes(deps.publicUrl),
    ...forecastRoutes(new RolloutForecastService(cell.ctx)),
    ...(deps.testMode ? testModeRoutes({ clock: deps.testMode.clock, reset: deps.testMode.reset, seeds: cell.seeds }) : []),
    metricsRoute(deps.operator),
    readyRoute(deps.operator),
  ];
  return [
    { name: 'iot', signingNames: ['iot', 'execute-api'], badRequestError: 'InvalidRequestException', routes: iotRoutes },
    {
      name: 'iotdata',
      signingNames: ['iotdata', 'iotdevicegateway'],
      badRequestError: 'InvalidRequestException',
      statusOverrides: { ThrottlingException: 429 },
      bodyTooLargeMessage: SHADOW_MESSAGES.tooLarge,
      routes: shadowRoutes(cell.services.shadows),
    },
    { name: 'iot-jobs-data', signingNames: ['iot-jobs-data'], badRequestError: 'InvalidRequestException', statusOverrides: { ThrottlingException: 429 }, routes: jobsDataRoutes(cell.services.jobsData) },
    ...(deps.s3 ? [deps.s3] : []),
  ];
}
