import type { PolicyDomain } from '../../domain/policies/policy-domain.js';
import { controlPlaneJson, queryBool, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/** IoT policies (issue 11 item 4), on the paths of AWS's model (device-security.md §5.1). */
export function policyRoutes({ policies: p, attachments: a, testAuthorization }: PolicyDomain): RouteDefinition[] {
  const paging = (q: URLSearchParams) => ({ marker: queryString(q, 'marker'), pageSize: queryInt(q, 'pageSize') });
  const version = (params: Record<string, string | undefined>) => ({ policyName: params.policyName, policyVersionId: params.policyVersionId });
  return [
    { method: 'POST', path: '/policies/:policyName', operation: 'CreatePolicy',
      handler: async ({ params, body }) => controlPlaneJson(await p.createPolicy({ ...body, policyName: params.policyName })) },
    { method: 'GET', path: '/policies/:policyName', operation: 'GetPolicy',
      handler: async ({ params }) => controlPlaneJson(await p.getPolicy({ policyName: params.policyName })) },
    { method: 'DELETE', path: '/policies/:policyName', operation: 'DeletePolicy',
      handler: async ({ params }) => controlPlaneJson(await p.deletePolicy({ policyName: params.policyName })) },
    { method: 'GET', path: '/policies', operation: 'ListPolicies',
      handler: async ({ query }) => controlPlaneJson(await p.listPolicies({ ...paging(query), ascendingOrder: queryBool(query, 'isAscendingOrder') })) },
    { method: 'POST', path: '/policies/:policyName/version', operation: 'CreatePolicyVersion',
      handler: async ({ params, body, query }) => controlPlaneJson(await p.createPolicyVersion({ ...body, policyName: params.policyName, setAsDefault: queryBool(query, 'setAsDefault') })) },
    { method: 'GET', path: '/policies/:policyName/version', operation: 'ListPolicyVersions',
      handler: async ({ params }) => controlPlaneJson(await p.listPolicyVersions({ policyName: params.policyName })) },
    { method: 'GET', path: '/policies/:policyName/version/:policyVersionId', operation: 'GetPolicyVersion',
      handler: async ({ params }) => controlPlaneJson(await p.getPolicyVersion(version(params))) },
    { method: 'PATCH', path: '/policies/:policyName/version/:policyVersionId', operation: 'SetDefaultPolicyVersion',
      handler: async ({ params }) => controlPlaneJson(await p.setDefaultPolicyVersion(version(params))) },
    { method: 'DELETE', path: '/policies/:policyName/version/:policyVersionId', operation: 'DeletePolicyVersion',
      handler: async ({ params }) => controlPlaneJson(await p.deletePolicyVersion(version(params))) },
    { method: 'PUT', path: '/target-policies/:policyName', operation: 'AttachPolicy',
      handler: async ({ params, body }) => controlPlaneJson(await a.attachPolicy({ ...body, policyName: params.policyName })) },
    { method: 'POST', path: '/target-policies/:policyName', operation: 'DetachPolicy',
      handler: async ({ params, body }) => controlPlaneJson(await a.detachPolicy({ ...body, policyName: params.policyName })) },
    { method: 'POST', path: '/attached-policies/:target', operation: 'ListAttachedPolicies',
      handler: async ({ params, query }) => controlPlaneJson(await a.listAttachedPolicies({ ...paging(query), target: params.target, recursive: queryBool(query, 'recursive') })) },
    { method: 'POST', path: '/policy-targets/:policyName', operation: 'ListTargetsForPolicy',
      handler: async ({ params, query }) => controlPlaneJson(await a.listTargetsForPolicy({ ...paging(query), policyName: params.policyName })) },
    { method: 'POST', path: '/effective-policies', operation: 'GetEffectivePolicies',
      handler: async ({ body, query }) => controlPlaneJson(await a.getEffectivePolicies({ ...body, thingName: queryString(query, 'thingName') })) },
    { method: 'POST', path: '/test-authorization', operation: 'TestAuthorization',
      handler: async ({ body, query }) => controlPlaneJson(await testAuthorization.testAuthorization({ ...body, clientId: queryString(query, 'clientId') })) },
  ];
}
