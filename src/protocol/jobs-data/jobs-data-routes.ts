import { DomainError } from '../../domain/errors.js';
import type { JobsDataService } from '../../domain/jobs/jobs-data-service.js';
import { devicePlaneJson, queryBool, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/**
 * The HTTPS device data plane (`iot-jobs-data`, jobs.md §9). Its paths are the control plane's
 * with other meanings, which is why APIs are selected by signing name. Timestamps go out as whole
 * epoch seconds. `$next` arrives literally on StartNext and percent-encoded on Describe; the router
 * hands labels over decoded either way.
 */
export function jobsDataRoutes(s: JobsDataService): RouteDefinition[] {
  return [
    { method: 'GET', path: '/things/:thingName/jobs', operation: 'GetPendingJobExecutions',
      handler: async ({ params, query }) => devicePlaneJson(await s.getPendingJobExecutions({ thingName: params.thingName, namespaceId: queryString(query, 'namespaceId') })) },
    { method: 'PUT', path: '/things/:thingName/jobs/:jobId', operation: 'StartNextPendingJobExecution',
      handler: async ({ params, body, query }) => {
        if (params.jobId !== '$next') throw new DomainError('UnknownOperationException', `No iot-jobs-data operation matches PUT /things/${params.thingName}/jobs/${params.jobId}.`);
        return devicePlaneJson(await s.startNextPendingJobExecution({ ...body, thingName: params.thingName, namespaceId: queryString(query, 'namespaceId') }));
      } },
    { method: 'GET', path: '/things/:thingName/jobs/:jobId', operation: 'DescribeJobExecution',
      handler: async ({ params, query }) => devicePlaneJson(await s.describeJobExecution({
        ...params, executionNumber: queryInt(query, 'executionNumber'), includeJobDocument: queryBool(query, 'includeJobDocument'), namespaceId: queryString(query, 'namespaceId') })) },
    { method: 'POST', path: '/things/:thingName/jobs/:jobId', operation: 'UpdateJobExecution',
      handler: async ({ params, body }) => devicePlaneJson(await s.updateJobExecution({ ...body, ...params })) },
  ];
}
