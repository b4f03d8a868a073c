import type { BillingGroupService } from '../../domain/things/billing-group-service.js';
import { controlPlaneJson, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/** Billing groups (issue 14 item 7), on the paths of AWS's model. */
export function billingGroupRoutes(b: BillingGroupService): RouteDefinition[] {
  const listing = (q: URLSearchParams) => ({ maxResults: queryInt(q, 'maxResults'), nextToken: queryString(q, 'nextToken') });
  return [
    { method: 'PUT', path: '/billing-groups/addThingToBillingGroup', operation: 'AddThingToBillingGroup',
      handler: async ({ body }) => controlPlaneJson(await b.addThingToBillingGroup(body)) },
    { method: 'PUT', path: '/billing-groups/removeThingFromBillingGroup', operation: 'RemoveThingFromBillingGroup',
      handler: async ({ body }) => controlPlaneJson(await b.removeThingFromBillingGroup(body)) },
    { method: 'POST', path: '/billing-groups/:billingGroupName', operation: 'CreateBillingGroup',
      handler: async ({ params, body }) => controlPlaneJson(await b.createBillingGroup({ ...body, billingGroupName: params.billingGroupName })) },
    { method: 'GET', path: '/billing-groups/:billingGroupName', operation: 'DescribeBillingGroup',
      handler: async ({ params }) => controlPlaneJson(await b.describeBillingGroup({ billingGroupName: params.billingGroupName })) },
    { method: 'PATCH', path: '/billing-groups/:billingGroupName', operation: 'UpdateBillingGroup',
      handler: async ({ params, body }) => controlPlaneJson(await b.updateBillingGroup({ ...body, billingGroupName: params.billingGroupName })) },
    { method: 'DELETE', path: '/billing-groups/:billingGroupName', operation: 'DeleteBillingGroup',
      handler: async ({ params, query }) => controlPlaneJson(await b.deleteBillingGroup({ billingGroupName: params.billingGroupName, expectedVersion: queryInt(query, 'expectedVersion') })) },
    { method: 'GET', path: '/billing-groups', operation: 'ListBillingGroups',
      handler: async ({ query }) => controlPlaneJson(await b.listBillingGroups({ ...listing(query), namePrefixFilter: queryString(query, 'namePrefixFilter') })) },
    { method: 'GET', path: '/billing-groups/:billingGroupName/things', operation: 'ListThingsInBillingGroup',
      handler: async ({ params, query }) => controlPlaneJson(await b.listThingsInBillingGroup({ ...listing(query), billingGroupName: params.billingGroupName })) },
  ];
}
