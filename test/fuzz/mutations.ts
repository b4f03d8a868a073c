import type { Prng } from './prng.js';

/**
 * Inputs a hostile or careless client sends: names that are valid, the wrong shape, too long, or
 * hold NUL and control characters; every JSON type in every member; nesting; prototype keys.
 * Valid names come first in `NAMES` so that mutated requests often reach the domain, not only the
 * validators.
 */

/** Names of resources the fuzz run seeds, so that many requests find something to act on. */
export const SEEDED = {
  thing: 'fz-thing',
  thing2: 'fz-thing-2',
  group: 'fz-group',
  package: 'fz-pkg',
  version: '1.0.0',
  job: 'fz-job',
  template: 'fz-template',
  bucket: 'fz-bucket',
  key: 'fz/key.bin',
  billingGroup: 'fz-billing',
};

const NAMES = [
  SEEDED.thing, SEEDED.thing2, SEEDED.group, SEEDED.package, SEEDED.version, SEEDED.job, SEEDED.template,
  SEEDED.billingGroup, 'new-name', '$next', '$default', '$null', '', ' ', 'a', 'x'.repeat(64), 'x'.repeat(129), 'y'.repeat(3000),
  '\u0000', 'a\u0000b', '\n', 'a\r\nx-injected: 1', '\u0001', '€', '😀', '\ud800', '..', '.', '/', 'a/b', '%', '%00', '%ZZ',
  '__proto__', 'constructor', 'toString', "'; drop table jobs; --", '${aws:iot:parameter:x}', '-1', '0', '1e309', 'null', 'true',
];

const NUMBERS = [0, 1, -1, 2, 10, 1.5, -0.5, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 10080, 10081, 1000, 1001];

export function name(r: Prng): string {
  return r.chance(0.4) ? r.pick(NAMES.slice(0, 7)) : r.pick(NAMES);
}

/** Percent-encoding that does not throw: a lone surrogate goes out as the invalid UTF-8 an attacker would send. */
export function pct(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.split('').map((c) => (/[\ud800-\udfff]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
}

/** A query value the signer can encode (it cannot encode a lone surrogate). */
const encodable = (s: string) => s.replace(/[\ud800-\udfff]/g, '\ufffd');

/** A path label as it goes on the wire: usually percent-encoded, sometimes raw garbage. */
export function pathLabel(r: Prng): string {
  const n = name(r);
  if (r.chance(0.1)) return r.pick(['%ZZ', '%', '%E0%A4%A', '%C3', '%2F', '%00', 'a%2Fb', '%24next', '%ED%A0%80']);
  return pct(n);
}

export function scalar(r: Prng): unknown {
  switch (r.int(6)) {
    case 0: return name(r);
    case 1: return r.pick(NUMBERS);
    case 2: return r.chance(0.5);
    case 3: return null;
    case 4: return r.pick(['QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT', 'REMOVED', 'PUBLISH', 'DEPRECATE', 'SNAPSHOT', 'CONTINUOUS', 'CANCEL', 'STOP_ROLLOUT', 'FORCE_CANCEL', 'ALL', 'bogus']);
    default: return r.pick([`arn:aws:iot:us-east-1:123456789012:thing/${SEEDED.thing}`, `arn:aws:iot:us-east-1:123456789012:thinggroup/${SEEDED.group}`,
      `arn:aws:iot:us-east-1:123456789012:package/${SEEDED.package}/version/$default`, `arn:aws:iot:us-east-1:123456789012:jobtemplate/${SEEDED.template}`,
      'arn:aws:iam::123456789012:role/r', 'arn:aws:iot:eu-west-1:999999999999:thing/x', 'not-an-arn', 'https://s3.amazonaws.com/fz-bucket/fz/key.bin']);
  }
}

export function value(r: Prng, depth = 0): unknown {
  const roll = r.int(10);
  if (depth > 3 || roll < 5) return scalar(r);
  if (roll < 7) return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
  if (roll < 8 && depth === 0) return deep(r.pick([20, 100, 1000]));
  return object(r, depth + 1);
}

function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/** Member names the IoT APIs take (requests of every operation mixed), plus prototype keys. */
const MEMBERS = [
  'description', 'tags', 'attributes', 'artifact', 'recipe', 'action', 'defaultVersionName', 'unsetDefaultVersion', 'sbom', 's3Location',
  'bucket', 'key', 'version', 'versionUpdateByJobsConfig', 'enabled', 'roleArn', 'thingTypeName', 'attributePayload', 'merge', 'expectedVersion',
  'removeThingType', 'thingGroupProperties', 'thingGroupDescription', 'parentGroupName', 'thingGroupName', 'thingName', 'thingArn',
  'thingGroupArn', 'thingGroupsToAdd', 'thingGroupsToRemove', 'overrideDynamicGroups', 'targets', 'document', 'documentSource',
  'documentParameters', 'targetSelection', 'jobExecutionsRolloutConfig', 'maximumPerMinute', 'exponentialRate', 'abortConfig',
  'criteriaList', 'timeoutConfig', 'inProgressTimeoutInMinutes', 'jobExecutionsRetryConfig', 'schedulingConfig', 'startTime', 'endTime',
  'endBehavior', 'maintenanceWindows', 'presignedUrlConfig', 'expiresInSec', 'destinationPackageVersions', 'jobTemplateArn', 'namespaceId',
  'reasonCode', 'comment', 'force', 'status', 'statusDetails', 'stepTimeoutInMinutes', 'includeJobExecutionState', 'includeJobDocument',
  'executionNumber', 'state', 'desired', 'reported', 'resourceArn', 'tagKeys', 'jobTemplateId', 'jobId', 'Key', 'Value', 'clientToken',
  'thingTypeProperties', 'searchableAttributes', 'undoDeprecate', '__proto__', 'constructor',
];

export function object(r: Prng, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = r.int(6); i >= 0; i--) {
    Object.defineProperty(out, r.pick(MEMBERS), { value: value(r, depth), enumerable: true, configurable: true, writable: true });
  }
  return out;
}

/** A request body: usually a JSON object of plausible members, sometimes not JSON at all. */
export function body(r: Prng): string | undefined {
  const roll = r.int(20);
  if (roll === 0) return undefined;
  if (roll === 1) return r.pick(['not json', '{', '[]', 'null', '"s"', '42', '\u0000', '{"a":1} trailing', '{"a":"\\ud800"}', '{"__proto__":{"polluted":1}}']);
  if (roll === 2) return JSON.stringify({ description: 'x'.repeat(r.pick([1025, 70_000, 1_100_000])) });
  return JSON.stringify(object(r));
}

const QUERY_NAMES = [
  'maxResults', 'nextToken', 'clientToken', 'force', 'namespaceId', 'status', 'executionNumber', 'beforeSubstitution', 'includeJobDocument',
  'name', 'thingGroupName', 'recursive', 'parentGroup', 'resourceArn', 'tagKeys', 'validationResult', 'targetSelection', 'jobId',
  'thingTypeName', 'attributeName', 'attributeValue', 'usePrefixAttributeValue', 'namePrefixFilter', 'endpointType', 'templateName',
  'pageSize', 'thingGroupId', 'qos',
];

export function query(r: Prng): Record<string, string> {
  const out: Record<string, string> = {};
  for (const q of r.some(QUERY_NAMES, 0.08)) out[q] = encodable(String(r.chance(0.3) ? r.pick(['true', 'false', '1', '0', '-1', '251', '']) : scalar(r)));
  if (r.chance(0.3)) out.clientToken = r.chance(0.7) ? crypto.randomUUID() : encodable(name(r));
  return out;
}

// ---- S3 ----

const S3_SUBRESOURCES = ['versioning', 'versions', 'uploads', 'delete', 'location', 'acl', 'tagging', 'policy', 'list-type', 'uploadId', 'partNumber', 'versionId',
  'prefix', 'delimiter', 'marker', 'max-keys', 'start-after', 'continuation-token', 'key-marker', 'version-id-marker', 'encoding-type',
  'response-content-type', 'response-content-disposition', 'response-cache-control', 'x-id'];

export function s3Query(r: Prng): Record<string, string> {
  const out: Record<string, string> = {};
  for (const q of r.some(S3_SUBRESOURCES, 0.12)) {
    out[q] = q === 'list-type' ? r.pick(['2', '1', 'x']) : q === 'max-keys' ? r.pick(['0', '5', '1001', '-1', 'x']) : q === 'encoding-type' ? r.pick(['url', 'x']) : r.chance(0.4) ? '' : encodable(String(scalar(r)));
  }
  return out;
}

export function s3Headers(r: Prng): Record<string, string> {
  const h: Record<string, string> = {};
  if (r.chance(0.15)) h['x-amz-copy-source'] = r.pick([`/${SEEDED.bucket}/${SEEDED.key}`, `/${SEEDED.bucket}/missing`, '/nope', '%ZZ', `/${SEEDED.bucket}/${SEEDED.key}?versionId=${pct(name(r))}`, pct(name(r))]);
  if (r.chance(0.1)) h['x-amz-metadata-directive'] = r.pick(['COPY', 'REPLACE', 'bogus']);
  if (r.chance(0.15)) h.range = r.pick(['bytes=0-1', 'bytes=-1', 'bytes=5-', 'bytes=9999-', 'bytes=x', 'bytes=2-1']);
  if (r.chance(0.1)) h['content-md5'] = r.pick(['1B2M2Y8AsgTpgAmY7PhCfg==', 'x', '']);
  if (r.chance(0.1)) h['x-amz-checksum-crc32'] = r.pick(['AAAAAA==', 'x']);
  if (r.chance(0.1)) h['x-amz-meta-fz'] = r.pick(['v', 'x'.repeat(3000)]);
  if (r.chance(0.1)) h['if-match'] = r.pick(['"x"', '*']);
  if (r.chance(0.1)) h['if-none-match'] = r.pick(['"x"', '*']);
  return h;
}

export function s3Body(r: Prng): string | undefined {
  if (r.chance(0.5)) return undefined;
  return r.pick([
    'object bytes',
    '<Delete><Object><Key>fz/key.bin</Key></Object></Delete>',
    `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`,
    '<Delete><Object><Key>a&#0;b</Key></Object></Delete>',
    '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
    '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>',
    '<VersioningConfiguration><Status>bogus</Status></VersioningConfiguration>',
    '<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>',
    '<!DOCTYPE x [<!ENTITY a "aaaa">]><Delete>&a;</Delete>',
    '<not-xml',
  ]);
}
