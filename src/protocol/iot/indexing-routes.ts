import type { AggregationService } from '../../domain/indexing/aggregation-service.js';
import type { DynamicGroupService } from '../../domain/indexing/dynamic-group-service.js';
import type { FleetIndexService } from '../../domain/indexing/fleet-index-service.js';
import { controlPlaneJson, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/** Fleet indexing (issue 12): configuration, indices and SearchIndex, on the paths of AWS's model. */
export function indexingRoutes(f: FleetIndexService, a: AggregationService, d: DynamicGroupService): RouteDefinition[] {
  return [
    ...aggregationRoutes(a),
    ...dynamicGroupRoutes(d),
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

/** The aggregations (issue 12 item 3). */
export function aggregationRoutes(a: AggregationService): RouteDefinition[] {
  return [
    { method: 'POST', path: '/indices/statistics', operation: 'GetStatistics', handler: async ({ body }) => controlPlaneJson(await a.getStatistics(body)) },
    { method: 'POST', path: '/indices/cardinality', operation: 'GetCardinality', handler: async ({ body }) => controlPlaneJson(await a.getCardinality(body)) },
    { method: 'POST', path: '/indices/percentiles', operation: 'GetPercentiles', handler: async ({ body }) => controlPlaneJson(await a.getPercentiles(body)) },
    { method: 'POST', path: '/indices/buckets', operation: 'GetBucketsAggregation', handler: async ({ body }) => controlPlaneJson(await a.getBucketsAggregation(body)) },
  ];
}

/** Dynamic thing groups (issue 12 item 4): their own write operations; reads are the thing-group routes. */
export function dynamicGroupRoutes(d: DynamicGroupService): RouteDefinition[] {
  return [
    { method: 'POST', path: '/dynamic-thing-groups/:thingGroupName', operation: 'CreateDynamicThingGroup',
      handler: async ({ params, body }) => controlPlaneJson(await d.createDynamicThingGroup({ ...body, thingGroupName: params.thingGroupName })) },
    { method: 'PATCH', path: '/dynamic-thing-groups/:thingGroupName', operation: 'UpdateDynamicThingGroup',
      handler: async ({ params, body }) => controlPlaneJson(await d.updateDynamicThingGroup({ ...body, thingGroupName: params.thingGroupName })) },
    { method: 'DELETE', path: '/dynamic-thing-groups/:thingGroupName', operation: 'DeleteDynamicThingGroup',
      handler: async ({ params, query }) => controlPlaneJson(await d.deleteDynamicThingGroup({ thingGroupName: params.thingGroupName, expectedVersion: queryInt(query, 'expectedVersion') })) },
  ];
}
