import type { BoundPolicies, DecisionDetail } from './policy-engine.js';

/**
 * The IoT policy actions of the HTTPS device planes (device-security.md §5.3, decision 0048): a
 * device calling the jobs data plane or the shadow REST API with its client certificate is
 * authorized per operation, on its thing's ARN, by the same engine as its MQTT packets.
 */
const JOBS_DATA = new Set(['DescribeJobExecution', 'GetPendingJobExecutions', 'StartNextPendingJobExecution', 'UpdateJobExecution']);
const SHADOWS = new Set(['GetThingShadow', 'UpdateThingShadow', 'DeleteThingShadow', 'ListNamedShadowsForThing']);

/** Every action the HTTPS device planes check, under its `iot:` name (the own-thing default policy grants them). */
export const DATA_PLANE_ACTIONS: readonly string[] = [...JOBS_DATA, ...SHADOWS].map((op) => `iot:${op}`);

/**
 * The names an operation's action goes by, the first the one logs name; undefined for an
 * operation of neither plane. AWS's pages call the jobs actions both `iot:…` and
 * `iotjobsdata:…` (the IAM service prefix): a policy may use either.
 */
export function dataPlaneActions(operation: string): string[] | undefined {
  if (JOBS_DATA.has(operation)) return [`iot:${operation}`, `iotjobsdata:${operation}`];
  if (SHADOWS.has(operation)) return [`iot:${operation}`];
  return undefined;
}

/** One decision for several names of one action: an explicit Deny of any wins, else an Allow of any. */
export function decideAny(policies: BoundPolicies, actions: string[], resource: string): DecisionDetail {
  let allowed: DecisionDetail | undefined;
  for (const action of actions) {
    const d = policies.explain(action, resource);
    if (d.decision === 'EXPLICIT_DENY') return d;
    if (d.decision === 'ALLOWED') allowed ??= d;
  }
  return allowed ?? { decision: 'IMPLICIT_DENY' };
}
