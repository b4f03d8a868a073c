import type { TagService } from '../../domain/tags/tag-service.js';
import { controlPlaneJson, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/** The generic IoT tagging operations, for every taggable ARN. */
export function tagRoutes(tags: TagService): RouteDefinition[] {
  return [
    { method: 'POST', path: '/tags', operation: 'TagResource',
      handler: async ({ body }) => controlPlaneJson(await tags.tagResource(body)) },
    { method: 'POST', path: '/untag', operation: 'UntagResource',
      handler: async ({ body }) => controlPlaneJson(await tags.untagResource(body)) },
    { method: 'GET', path: '/tags', operation: 'ListTagsForResource',
      handler: async ({ query }) => controlPlaneJson(await tags.listTagsForResource({ resourceArn: queryString(query, 'resourceArn'), nextToken: queryString(query, 'nextToken') })) },
  ];
}
