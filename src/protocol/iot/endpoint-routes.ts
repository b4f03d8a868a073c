import { DomainError } from '../../domain/errors.js';
import { controlPlaneJson, queryString } from '../http/json.js';
import type { RouteDefinition } from '../http/route.js';

/** The endpoint types DescribeEndpoint knows (jobs.md §11 #19, things-and-shadows.md §5.1). */
const SERVED_TYPES = new Set(['iot:Data', 'iot:Data-ATS', 'iot:Jobs']);
const KNOWN_TYPES = new Set([...SERVED_TYPES, 'iot:CredentialProvider']);

/**
 * DescribeEndpoint: AWS answers a per-account host for each plane. Every plane fleetjobs serves
 * (control, shadows, jobs data) is on one port, so each served type answers the same address: the
 * host (and port) of the public URL, which is also what presigned URLs name.
 */
export function endpointRoutes(publicUrl: () => URL): RouteDefinition[] {
  return [
    {
      method: 'GET',
      path: '/endpoint',
      operation: 'DescribeEndpoint',
      handler: ({ query }) => {
        const endpointType = queryString(query, 'endpointType') ?? 'iot:Data';
        if (endpointType.length > 128 || !KNOWN_TYPES.has(endpointType)) {
          throw new DomainError('InvalidRequestException', `Endpoint type ${endpointType} is not valid; use one of ${[...KNOWN_TYPES].join(', ')}.`);
        }
        if (!SERVED_TYPES.has(endpointType)) {
          throw new DomainError('InvalidRequestException', `fleetjobs does not serve the ${endpointType} endpoint.`);
        }
        return controlPlaneJson({ endpointAddress: publicUrl().host });
      },
    },
  ];
}
