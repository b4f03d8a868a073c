import type { ThingRegistry } from '../../domain/things/registry.js';
import { controlPlaneJson, queryBool, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/** Thing registry routes (things-and-shadows.md §3–4): things, thing types, static thing groups, membership. */
export function thingRoutes(r: ThingRegistry): RouteDefinition[] {
  const listing = (q: URLSearchParams) => ({ maxResults: queryInt(q, 'maxResults'), nextToken: queryString(q, 'nextToken') });
  return [
    { method: 'POST', path: '/things/:thingName', operation: 'CreateThing',
      handler: async ({ params, body }) => controlPlaneJson(await r.things.createThing({ ...body, thingName: params.thingName })) },
    { method: 'GET', path: '/things/:thingName', operation: 'DescribeThing',
      handler: async ({ params }) => controlPlaneJson(await r.things.describeThing({ thingName: params.thingName })) },
    { method: 'PATCH', path: '/things/:thingName', operation: 'UpdateThing',
      handler: async ({ params, body }) => controlPlaneJson(await r.things.updateThing({ ...body, thingName: params.thingName })) },
    { method: 'DELETE', path: '/things/:thingName', operation: 'DeleteThing',
      handler: async ({ params, query }) => controlPlaneJson(await r.things.deleteThing({ thingName: params.thingName, expectedVersion: queryInt(query, 'expectedVersion') })) },
    { method: 'GET', path: '/things', operation: 'ListThings',
      handler: async ({ query }) => controlPlaneJson(await r.things.listThings({
        ...listing(query),
        attributeName: queryString(query, 'attributeName'),
        attributeValue: queryString(query, 'attributeValue'),
        thingTypeName: queryString(query, 'thingTypeName'),
        usePrefixAttributeValue: queryBool(query, 'usePrefixAttributeValue'),
      })) },

    { method: 'POST', path: '/thing-types/:thingTypeName', operation: 'CreateThingType',
      handler: async ({ params, body }) => controlPlaneJson(await r.thingTypes.createThingType({ ...body, thingTypeName: params.thingTypeName })) },
    { method: 'GET', path: '/thing-types/:thingTypeName', operation: 'DescribeThingType',
      handler: async ({ params }) => controlPlaneJson(await r.thingTypes.describeThingType({ thingTypeName: params.thingTypeName })) },
    { method: 'POST', path: '/thing-types/:thingTypeName/deprecate', operation: 'DeprecateThingType',
      handler: async ({ params, body }) => controlPlaneJson(await r.thingTypes.deprecateThingType({ ...body, thingTypeName: params.thingTypeName })) },
    { method: 'DELETE', path: '/thing-types/:thingTypeName', operation: 'DeleteThingType',
      handler: async ({ params }) => controlPlaneJson(await r.thingTypes.deleteThingType({ thingTypeName: params.thingTypeName })) },
    { method: 'GET', path: '/thing-types', operation: 'ListThingTypes',
      handler: async ({ query }) => controlPlaneJson(await r.thingTypes.listThingTypes({ ...listing(query), thingTypeName: queryString(query, 'thingTypeName') })) },

    { method: 'POST', path: '/thing-groups/:thingGroupName', operation: 'CreateThingGroup',
      handler: async ({ params, body }) => controlPlaneJson(await r.groups.createThingGroup({ ...body, thingGroupName: params.thingGroupName })) },
    { method: 'GET', path: '/thing-groups/:thingGroupName', operation: 'DescribeThingGroup',
      handler: async ({ params }) => controlPlaneJson(await r.groups.describeThingGroup({ thingGroupName: params.thingGroupName })) },
    { method: 'PATCH', path: '/thing-groups/:thingGroupName', operation: 'UpdateThingGroup',
      handler: async ({ params, body }) => controlPlaneJson(await r.groups.updateThingGroup({ ...body, thingGroupName: params.thingGroupName })) },
    { method: 'DELETE', path: '/thing-groups/:thingGroupName', operation: 'DeleteThingGroup',
      handler: async ({ params, query }) => controlPlaneJson(await r.groups.deleteThingGroup({ thingGroupName: params.thingGroupName, expectedVersion: queryInt(query, 'expectedVersion') })) },
    { method: 'GET', path: '/thing-groups', operation: 'ListThingGroups',
      handler: async ({ query }) => controlPlaneJson(await r.groups.listThingGroups({
        ...listing(query),
        parentGroup: queryString(query, 'parentGroup'),
        namePrefixFilter: queryString(query, 'namePrefixFilter'),
        recursive: queryBool(query, 'recursive'),
      })) },

    { method: 'PUT', path: '/thing-groups/addThingToThingGroup', operation: 'AddThingToThingGroup',
      handler: async ({ body }) => controlPlaneJson(await r.membership.addThingToThingGroup(body)) },
    { method: 'PUT', path: '/thing-groups/removeThingFromThingGroup', operation: 'RemoveThingFromThingGroup',
      handler: async ({ body }) => controlPlaneJson(await r.membership.removeThingFromThingGroup(body)) },
    { method: 'PUT', path: '/thing-groups/updateThingGroupsForThing', operation: 'UpdateThingGroupsForThing',
      handler: async ({ body }) => controlPlaneJson(await r.membership.updateThingGroupsForThing(body)) },
    { method: 'GET', path: '/thing-groups/:thingGroupName/things', operation: 'ListThingsInThingGroup',
      handler: async ({ params, query }) => controlPlaneJson(await r.membership.listThingsInThingGroup({
        ...listing(query), thingGroupName: params.thingGroupName, recursive: queryBool(query, 'recursive') })) },
    { method: 'GET', path: '/things/:thingName/thing-groups', operation: 'ListThingGroupsForThing',
      handler: async ({ params, query }) => controlPlaneJson(await r.membership.listThingGroupsForThing({ ...listing(query), thingName: params.thingName })) },
  ];
}
