import type { FleetIndexService } from '../../domain/indexing/fleet-index-service.js';
import { controlPlaneJson, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/** Fleet indexing (issue 12): configuration, indices and SearchIndex, on the paths of AWS's model. */
export function indexingRoutes(f: FleetIndexService): RouteDefinition[] {
  return [
    { method: 'GET', path: '/indexing/config', operation: 'GetIndexingConfiguration',
      handler: async () => controlPlaneJson(await f.getIndexingConfiguration()) },
    { method: 'POST', path: '/indexing/config', operation: 'UpdateIndexingConfiguration',
      handler: async ({ body }) => controlPlaneJson(await f.updateIndexingConfiguration(body)) },
    { method: 'GET', path: '/indices', operation: 'ListIndices',
      handler: async ({ query }) => controlPlaneJson(await f.listIndices({ maxResults: queryInt(query, 'maxResults'), nextToken: queryString(query, 'nextToken') })) },
    { method: 'POST', path: '/indices/search', operation: 'SearchIndex',
      handler: async ({ body }) => controlPlaneJson(await f.searchIndex(body)) },
    { method: 'GET', path: '/indices/:indexName', operation: 'DescribeIndex',
      handler: async ({ params }) => controlPlaneJson(await f.describeIndex({ indexName: params.indexName })) },
  ];
}
