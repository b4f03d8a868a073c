import type { ExecutionControlService } from '../../domain/jobs/execution-control-service.js';
import type { JobCreationService } from '../../domain/jobs/job-creation.js';
import type { JobService } from '../../domain/jobs/job-service.js';
import { controlPlaneJson, queryBool, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';
import { jobControlPlaneJson } from './job-config-json.js';

export interface JobServices {
  creation: JobCreationService;
  jobs: JobService;
  executions: ExecutionControlService;
}

/** IoT Jobs control-plane routes (jobs.md §8): the door parses and formats, nothing more. */
export function jobRoutes(s: JobServices): RouteDefinition[] {
  const q = queryString;
  return [
    { method: 'PUT', path: '/jobs/:jobId', operation: 'CreateJob',
      handler: async ({ params, body }) => controlPlaneJson(await s.creation.createJob({ ...body, jobId: params.jobId })) },
    { method: 'GET', path: '/jobs/:jobId', operation: 'DescribeJob',
      handler: async ({ params, query }) => jobControlPlaneJson(await s.jobs.describeJob({ jobId: params.jobId, beforeSubstitution: queryBool(query, 'beforeSubstitution') })) },
    { method: 'PATCH', path: '/jobs/:jobId', operation: 'UpdateJob',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.jobs.updateJob({ ...body, jobId: params.jobId, namespaceId: q(query, 'namespaceId') })) },
    { method: 'DELETE', path: '/jobs/:jobId', operation: 'DeleteJob',
      handler: async ({ params, query }) => controlPlaneJson(await s.jobs.deleteJob({ jobId: params.jobId, force: queryBool(query, 'force'), namespaceId: q(query, 'namespaceId') })) },
    { method: 'PUT', path: '/jobs/:jobId/cancel', operation: 'CancelJob',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.jobs.cancelJob({ ...body, jobId: params.jobId, force: queryBool(query, 'force') })) },
    { method: 'GET', path: '/jobs', operation: 'ListJobs',
      handler: async ({ query }) => controlPlaneJson(await s.jobs.listJobs({
        status: q(query, 'status'), targetSelection: q(query, 'targetSelection'), thingGroupName: q(query, 'thingGroupName'),
        thingGroupId: q(query, 'thingGroupId'), namespaceId: q(query, 'namespaceId'), maxResults: queryInt(query, 'maxResults'), nextToken: q(query, 'nextToken') })) },
    { method: 'GET', path: '/jobs/:jobId/job-document', operation: 'GetJobDocument',
      handler: async ({ params, query }) => controlPlaneJson(await s.jobs.getJobDocument({ jobId: params.jobId, beforeSubstitution: queryBool(query, 'beforeSubstitution') })) },
    { method: 'POST', path: '/jobs/:jobId/targets', operation: 'AssociateTargetsWithJob',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.jobs.associateTargetsWithJob({ ...body, jobId: params.jobId, namespaceId: q(query, 'namespaceId') })) },
    { method: 'GET', path: '/jobs/:jobId/things', operation: 'ListJobExecutionsForJob',
      handler: async ({ params, query }) => controlPlaneJson(await s.executions.listJobExecutionsForJob({
        jobId: params.jobId, status: q(query, 'status'), maxResults: queryInt(query, 'maxResults'), nextToken: q(query, 'nextToken') })) },

    { method: 'GET', path: '/things/:thingName/jobs', operation: 'ListJobExecutionsForThing',
      handler: async ({ params, query }) => controlPlaneJson(await s.executions.listJobExecutionsForThing({
        thingName: params.thingName, status: q(query, 'status'), namespaceId: q(query, 'namespaceId'), jobId: q(query, 'jobId'),
        maxResults: queryInt(query, 'maxResults'), nextToken: q(query, 'nextToken') })) },
    { method: 'GET', path: '/things/:thingName/jobs/:jobId', operation: 'DescribeJobExecution',
      handler: async ({ params, query }) => controlPlaneJson(await s.executions.describeJobExecution({ ...params, executionNumber: queryInt(query, 'executionNumber') })) },
    { method: 'PUT', path: '/things/:thingName/jobs/:jobId/cancel', operation: 'CancelJobExecution',
      handler: async ({ params, body, query }) => controlPlaneJson(await s.executions.cancelJobExecution({ ...body, ...params, force: queryBool(query, 'force') })) },
    { method: 'DELETE', path: '/things/:thingName/jobs/:jobId/executionNumber/:executionNumber', operation: 'DeleteJobExecution',
      handler: async ({ params, query }) => controlPlaneJson(await s.executions.deleteJobExecution({
        jobId: params.jobId, thingName: params.thingName, executionNumber: /^\d+$/.test(params.executionNumber) ? Number(params.executionNumber) : params.executionNumber,
        force: queryBool(query, 'force'), namespaceId: q(query, 'namespaceId') })) },
  ];
}
