import type { RouteDefinition } from '../../src/protocol/http/route.js';
import { metricsRoute, readyRoute } from '../../src/protocol/http/operator-routes.js';
import { billingGroupRoutes } from '../../src/protocol/iot/billing-group-routes.js';
import { certificateRoutes } from '../../src/protocol/iot/certificate-routes.js';
import { endpointRoutes } from '../../src/protocol/iot/endpoint-routes.js';
import { forecastRoutes } from '../../src/protocol/iot/forecast-routes.js';
import { indexingRoutes } from '../../src/protocol/iot/indexing-routes.js';
import { jobRoutes } from '../../src/protocol/iot/job-routes.js';
import { jobTemplateRoutes } from '../../src/protocol/iot/job-template-routes.js';
import { packageRoutes } from '../../src/protocol/iot/package-routes.js';
import { policyRoutes } from '../../src/protocol/iot/policy-routes.js';
import { tagRoutes } from '../../src/protocol/iot/tag-routes.js';
import { thingRoutes } from '../../src/protocol/iot/thing-routes.js';
import { shadowRoutes } from '../../src/protocol/iot-data/shadow-routes.js';
import { jobsDataRoutes } from '../../src/protocol/jobs-data/jobs-data-routes.js';

/**
 * Every route of every API, read from the route factories themselves so that a new route is fuzzed
 * the day it is added. The factories only capture their services in closures, so a stand-in that
 * is never called is enough to list them.
 */
export interface FuzzRoute {
  service: 'iot' | 'iot-jobs-data' | 'iotdata' | 's3';
  method: string;
  path: string;
  operation: string;
}

const standIn: never = new Proxy({}, { get: () => standIn }) as never;

const of = (service: FuzzRoute['service'], routes: RouteDefinition[]): FuzzRoute[] =>
  routes.map((r) => ({ service, method: r.method, path: r.path, operation: r.operation }));

/** S3 is one dispatching handler per path shape; its operations are told apart by query and headers. */
const S3_SHAPES: FuzzRoute[] = ['GET', 'HEAD', 'PUT', 'DELETE', 'POST'].flatMap((method) => [
  { service: 's3' as const, method, path: '/:bucket', operation: `S3Bucket${method}` },
  { service: 's3' as const, method, path: '/:bucket/*', operation: `S3Object${method}` },
]);

export function allRoutes(): FuzzRoute[] {
  return [
    ...of('iot', [
      ...packageRoutes(standIn),
      ...tagRoutes(standIn),
      ...thingRoutes(standIn),
      ...policyRoutes(standIn),
      ...billingGroupRoutes(standIn),
      ...jobRoutes(standIn),
      ...forecastRoutes(standIn),
      metricsRoute(standIn),
      readyRoute(standIn),
      ...jobTemplateRoutes(standIn),
      ...certificateRoutes(standIn),
      ...indexingRoutes(standIn, standIn, standIn),
      ...endpointRoutes(() => new URL('http://127.0.0.1')),
    ]),
    ...of('iot-jobs-data', jobsDataRoutes(standIn)),
    ...of('iotdata', shadowRoutes(standIn)),
    { service: 's3', method: 'GET', path: '/', operation: 'ListBuckets' },
    ...S3_SHAPES,
  ];
}
