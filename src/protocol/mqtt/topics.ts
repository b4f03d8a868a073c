/**
 * The device topics under `$aws/things/{thingName}/` (jobs.md §10.1, things-and-shadows.md §7.1):
 * which request a topic is, and where its answers go. Parsed by segment count, so job ids that are
 * also verbs (`get`, `start-next`, `notify`) stay unambiguous: `…/jobs/get` is GetPending,
 * `…/jobs/get/get` describes the job named `get`.
 */

export type JobsRequest =
  | { kind: 'jobs'; op: 'get' | 'start-next'; thingName: string; namespaceId?: string }
  | { kind: 'jobs'; op: 'describe' | 'update'; thingName: string; jobId: string; namespaceId?: string };

export type ShadowRequest = { kind: 'shadow'; op: 'get' | 'update' | 'delete'; thingName: string; shadowName?: string };

/** A publish under `…/jobs/` that is no request AWS serves: answered with InvalidTopic. */
export type InvalidJobsTopic = { kind: 'invalid-jobs'; thingName: string; topic: string };

export type DeviceRequest = JobsRequest | ShadowRequest | InvalidJobsTopic;

const PREFIX = '$aws/things/';
const NAMESPACE = /^namespace-(.+)$/;

/** The thing whose subtree `topic` (or a filter) is in, if any: `$aws/things/{thing}/…`. */
export function thingOfTopic(topic: string): string | undefined {
  if (!topic.startsWith(PREFIX)) return undefined;
  const end = topic.indexOf('/', PREFIX.length);
  return end < 0 ? undefined : topic.slice(PREFIX.length, end);
}

/** What a publish on `topic` asks for; undefined for topics that are not requests (replies, notifications, anything else). */
export function parseRequestTopic(topic: string): DeviceRequest | undefined {
  const thingName = thingOfTopic(topic);
  if (thingName === undefined || thingName === '' || /[+#]/.test(thingName)) return undefined;
  const rest = topic.slice(PREFIX.length + thingName.length + 1).split('/');
  if (rest[0] === 'jobs') return parseJobs(thingName, rest.slice(1), topic);
  if (rest[0] === 'shadow') return parseShadow(thingName, rest.slice(1));
  return undefined;
}

function parseJobs(thingName: string, parts: string[], topic: string): DeviceRequest | undefined {
  const invalid: InvalidJobsTopic = { kind: 'invalid-jobs', thingName, topic };
  // Replies and notifications are published by the service; a device publishing them is ignored.
  const last = parts[parts.length - 1];
  if (last === 'accepted' || last === 'rejected' || (parts.length === 1 && (parts[0] === 'notify' || parts[0] === 'notify-next' || /^notify-next-namespace-/.test(parts[0])))) return undefined;
  if (parts.length === 1 && (parts[0] === 'get' || parts[0] === 'start-next')) return { kind: 'jobs', op: parts[0], thingName };
  if (parts.length === 2 && (parts[1] === 'get' || parts[1] === 'update') && parts[0] !== '') {
    return { kind: 'jobs', op: parts[1] === 'get' ? 'describe' : 'update', thingName, jobId: parts[0] };
  }
  const ns = parts.length === 3 ? NAMESPACE.exec(parts[1]) : null;
  if (ns && (parts[2] === 'get' || parts[2] === 'update') && parts[0] !== '') {
    return { kind: 'jobs', op: parts[2] === 'get' ? 'describe' : 'update', thingName, jobId: parts[0], namespaceId: ns[1] };
  }
  return invalid;
}

function parseShadow(thingName: string, parts: string[]): ShadowRequest | undefined {
  let shadowName: string | undefined;
  let op = parts;
  if (parts[0] === 'name') {
    if (parts.length !== 3 || parts[1] === '') return undefined;
    shadowName = parts[1];
    op = parts.slice(2);
  }
  if (op.length !== 1 || (op[0] !== 'get' && op[0] !== 'update' && op[0] !== 'delete')) return undefined;
  return { kind: 'shadow', op: op[0], thingName, ...(shadowName !== undefined ? { shadowName } : {}) };
}

export const acceptedTopic = (requestTopic: string) => `${requestTopic}/accepted`;
export const rejectedTopic = (requestTopic: string) => `${requestTopic}/rejected`;

export function jobsNotifyTopic(thingName: string): string {
  return `${PREFIX}${thingName}/jobs/notify`;
}

export function jobsNotifyNextTopic(thingName: string, namespaceId?: string): string {
  return `${PREFIX}${thingName}/jobs/notify-next${namespaceId ? `-namespace-${namespaceId}` : ''}`;
}

export function shadowTopic(thingName: string, shadowName: string | undefined, suffix: string): string {
  return `${PREFIX}${thingName}/shadow${shadowName !== undefined ? `/name/${shadowName}` : ''}/${suffix}`;
}
