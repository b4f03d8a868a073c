import type { ShadowService } from '../../domain/shadows/shadow-service.js';
import { DomainError } from '../../domain/errors.js';
import { devicePlaneJson, queryInt, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/**
 * Device Shadow REST routes (`iotdata` signing name, things-and-shadows.md §5). Request and response
 * bodies are the shadow documents themselves (httpPayload blobs): the update body is passed on raw
 * whatever its content type (the JS SDK sends application/octet-stream, boto3 and the CLI none).
 * `?name=` absent means the classic shadow; an empty `?name=` is passed on for the service to refuse.
 */
export function shadowRoutes(shadows: ShadowService): RouteDefinition[] {
  const shadowName = (q: URLSearchParams) => q.get('name') ?? undefined;
  const notAllowed = (method: string) => () => {
    throw new DomainError('MethodNotAllowedException', `The method ${method} is not allowed on a thing shadow.`);
  };
  return [
    { method: 'GET', path: '/things/:thingName/shadow', operation: 'GetThingShadow',
      handler: async ({ params, query }) => devicePlaneJson(await shadows.getThingShadow({ thingName: params.thingName, shadowName: shadowName(query) })) },
    { method: 'POST', path: '/things/:thingName/shadow', operation: 'UpdateThingShadow', body: 'raw',
      handler: async ({ params, query, rawBody }) => devicePlaneJson(await shadows.updateThingShadow({ thingName: params.thingName, shadowName: shadowName(query), payload: rawBody })) },
    { method: 'DELETE', path: '/things/:thingName/shadow', operation: 'DeleteThingShadow',
      handler: async ({ params, query }) => devicePlaneJson(await shadows.deleteThingShadow({ thingName: params.thingName, shadowName: shadowName(query) })) },
    { method: 'PUT', path: '/things/:thingName/shadow', operation: 'UpdateThingShadow', body: 'raw', handler: notAllowed('PUT') },
    { method: 'PATCH', path: '/things/:thingName/shadow', operation: 'UpdateThingShadow', body: 'raw', handler: notAllowed('PATCH') },
    { method: 'GET', path: '/api/things/shadow/ListNamedShadowsForThing/:thingName', operation: 'ListNamedShadowsForThing',
      handler: async ({ params, query }) => devicePlaneJson(await shadows.listNamedShadowsForThing({
        thingName: params.thingName, nextToken: queryString(query, 'nextToken'), pageSize: queryInt(query, 'pageSize') })) },
  ];
}
