import type { JobTemplateService } from '../../domain/jobs/templates/job-template-service.js';
import type { ManagedJobTemplateService } from '../../domain/jobs/templates/managed-template-service.js';
import { controlPlaneJson, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';
import { jobControlPlaneJson } from './job-config-json.js';

export interface JobTemplateServices {
  templates: JobTemplateService;
  managed: ManagedJobTemplateService;
}

/** Job templates and AWS managed job templates (jobs.md §7.4, §7.5, §8): parse, call, format. */
export function jobTemplateRoutes(s: JobTemplateServices): RouteDefinition[] {
  const q = queryString;
  return [
    { method: 'PUT', path: '/job-templates/:jobTemplateId', operation: 'CreateJobTemplate',
      handler: async ({ params, body }) => controlPlaneJson(await s.templates.createJobTemplate({ ...body, jobTemplateId: params.jobTemplateId })) },
    { method: 'GET', path: '/job-templates/:jobTemplateId', operation: 'DescribeJobTemplate',
      handler: async ({ params }) => jobControlPlaneJson(await s.templates.describeJobTemplate({ jobTemplateId: params.jobTemplateId })) },
    { method: 'GET', path: '/job-templates', operation: 'ListJobTemplates',
      handler: async ({ query }) => controlPlaneJson(await s.templates.listJobTemplates({ maxResults: queryInt(query, 'maxResults'), nextToken: q(query, 'nextToken') })) },
    // AWS answers DeleteJobTemplate with an empty body.
    { method: 'DELETE', path: '/job-templates/:jobTemplateId', operation: 'DeleteJobTemplate',
      handler: async ({ params }) => {
        await s.templates.deleteJobTemplate({ jobTemplateId: params.jobTemplateId });
        return { rawBody: '' };
      } },
    { method: 'GET', path: '/managed-job-templates/:templateName', operation: 'DescribeManagedJobTemplate',
      handler: ({ params, query }) => controlPlaneJson(s.managed.describeManagedJobTemplate({ templateName: params.templateName, templateVersion: q(query, 'templateVersion') })) },
    { method: 'GET', path: '/managed-job-templates', operation: 'ListManagedJobTemplates',
      handler: ({ query }) => controlPlaneJson(s.managed.listManagedJobTemplates({
        templateName: q(query, 'templateName'), maxResults: queryInt(query, 'maxResults'), nextToken: q(query, 'nextToken') })) },
  ];
}
