import { DATA_PLANE_ACTIONS } from './data-plane-actions.js';
import { compilePolicyDocument, type CompiledPolicy } from './policy-document.js';

/**
 * What a device principal with no policy attached may do (`--default-device-policy`, decision
 * 0035): `aws` nothing, as on AWS; `own-thing` (the default) the thing's own
 * `$aws/things/{thing}/` topics, and over HTTPS its own thing's jobs and shadows (decision 0048),
 * and nothing else — the doors' rule before policies existed, now one policy document the engine
 * evaluates like any other.
 */
export type DefaultDevicePolicy = 'aws' | 'own-thing';

export const DEFAULT_DEVICE_POLICIES: readonly DefaultDevicePolicy[] = ['aws', 'own-thing'];

/** The `own-thing` document for one region and account. */
export function ownThingPolicyDocument(region: string, account: string): string {
  const arn = (resource: string) => `arn:aws:iot:${region}:${account}:${resource}`;
  const thing = '${iot:Connection.Thing.ThingName}';
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: arn(`client/${thing}`), Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } } },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: arn(`topic/$aws/things/${thing}/*`) },
      // A filter must name something below the thing's prefix (`?` is one character at least).
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn(`topicfilter/$aws/things/${thing}/?*`) },
      // HTTPS has no CONNECT to hold the attachment condition: each request does. `thing/{t}/*` are its named shadows.
      { Effect: 'Allow', Action: DATA_PLANE_ACTIONS, Resource: [arn(`thing/${thing}`), arn(`thing/${thing}/*`)], Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } } },
    ],
  });
}

/** The compiled default policy: none (nothing allowed) for `aws`. */
export function defaultDevicePolicy(which: DefaultDevicePolicy, region: string, account: string): CompiledPolicy[] {
  return which === 'aws' ? [] : [compilePolicyDocument('fleetjobs-default-own-thing', ownThingPolicyDocument(region, account))];
}
