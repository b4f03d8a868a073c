import { DomainError } from '../errors.js';
import { decodeUrlComponent, s3LocationOfUrlParts, type S3Location } from '../s3-location.js';
import { FieldErrors } from '../validation.js';
import { DEFAULT_PRESIGNED_EXPIRY_SEC } from './job-config-rules.js';
import type { PresignMethod } from './job-ports.js';
import {
  isWholeJsonValue,
  jsonStringContent,
  PARAMETER_PREFIX,
  parsePackageReference,
  MAX_EACH_UPLOAD_KEY_PLACEHOLDER,
  PRESIGNED_UPLOAD_PREFIX,
  PRESIGNED_V1_PREFIX,
  PRESIGNED_V2_PREFIX,
  scanPlaceholders,
  UPLOAD_KEY_PLACEHOLDERS,
  type UploadKeyPlaceholder,
  type PackageReference,
  type Placeholder,
} from './placeholders.js';

/**
 * Job documents and their substitution (jobs.md §7, packages.md §11.3). Parameter and package
 * attribute placeholders are resolved once, at CreateJob (resolveDocumentPlaceholders); presigned
 * URL placeholders on every device read (resolvePresignedPlaceholders). AWS names these failures
 * InvalidJobDocumentException, which the Jobs operations do not model: they surface as
 * InvalidRequestException.
 */

export const MAX_JOB_DOCUMENT_CHARS = 32768;

export type { S3Location };

export interface DestinationPackageVersion {
  packageName: string;
  /** Resolved, never `$default`. */
  versionName: string;
  /** As given in the ARN: a version, `$default` or `$null`. */
  requestedVersionName: string;
  attributes: Record<string, string>;
  artifact?: { s3Location: S3Location };
}

/** A presigned GET (downloads) or PUT (`s3-presigned-url-upload`) URL for an object. */
export type Presign = (loc: S3Location, expiresInSec: number, method: PresignMethod) => Promise<string>;

/** The execution a device reads a document for: its values fill an upload URL's key placeholders. */
export interface ExecutionIdentity {
  thingName: string;
  jobId: string;
  executionNumber: number;
}

export const MESSAGES = {
  unterminated: 'One or more parameters or placeholders are not terminated.',
  allAttributesAlone:
    'The package version attribute placeholder for all attributes has to be a json value by itself and not appended with other strings or nested with other placeholders.',
  emptyWithMany: 'Cannot resolve empty package name and version name given multiple elements in destination package versions.',
  emptyPair: 'Empty package name and version name have to be used in pair.',
  nullVersion: '$null is not allowed to be referenced as a package version in job documents.',
  artifactNested: '${aws:iot:package:[...]:artifact:s3-presigned-url} cannot be nested inside another placeholder.',
  roleRequired: 'presignedUrlConfig role ARN is required to generate an S3 presigned url in job document.',
  packageRoleRequired: (p: string, v: string) =>
    `presignedUrlConfig role ARN is required to generate an S3 presigned url in job document for package ${p} version ${v} artifact.`,
  noArtifact: (p: string, v: string) => `Package ${p} version ${v} does not have an associated artifact to generate an S3 presigned url.`,
  secondLayer: (kind: string) => `\${aws:${kind}[...]} should not be the second layer pattern.`,
  // Not worded by AWS's documentation: our own texts.
  notDestination: (p: string, v: string) =>
    `Package ${p} version ${v} is referenced in the job document but is not in destinationPackageVersions; make both references match.`,
  emptyWithNone: 'Cannot resolve empty package name and version name without an element in destination package versions.',
  noAttribute: (p: string, v: string, k: string) => `Package ${p} version ${v} does not have an attribute ${k}.`,
  notUtf8: 'The job document must be valid UTF-8.',
  notJson: 'The job document must be a valid JSON object.',
  badS3Url: (url: string) => `The S3 URL ${url} in the presigned URL placeholder is not a valid S3 object URL.`,
  undefinedLocal: (body: string) => `Undefined placeholder, \${${body}}, inside of presign url upload parameter`,
  localOutsideUpload: (body: string) => `Local placeholder, \${${body}}, is only valid inside of presign url upload`,
  tooManyLocal: (body: string) =>
    `The local placeholder \${${body}} can be used at most ${MAX_EACH_UPLOAD_KEY_PLACEHOLDER} times in a presign url upload parameter.`,
  uploadWithoutBucket: 'The presign url upload parameter needs an S3 URL that names at least a bucket.',
  localInBucket: (url: string) =>
    `The S3 bucket name of the presign url upload parameter ${url} cannot contain a local placeholder: put \${thingName}, \${jobId} and \${executionNumber} in the key.`,
} as const;

const fail = (message: string): never => {
  throw new DomainError('InvalidRequestException', message);
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A document AWS would accept: ≤ 32768 chars of UTF-8 JSON whose top level is an object, every
 * placeholder terminated, no `$null` package version, no second-layer `${aws:...}` placeholder, the
 * all-attributes placeholder a whole JSON value, and empty package/version names used in pairs.
 */
export function validateJobDocument(raw: string): void {
  const errors = new FieldErrors('InvalidRequestException');
  errors.string(raw, 'document', { max: MAX_JOB_DOCUMENT_CHARS });
  errors.throwIfAny();
  if (LONE_SURROGATE.test(raw)) fail(MESSAGES.notUtf8);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail(MESSAGES.notJson);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail(MESSAGES.notJson);
  checkPlaceholders(raw);
}

const isUploadKeyPlaceholder = (body: string): body is UploadKeyPlaceholder => (UPLOAD_KEY_PLACEHOLDERS as readonly string[]).includes(body);

/**
 * `${thingName}`, `${jobId}` and `${executionNumber}` belong in the key of an upload URL (at most
 * twice each); anything else inside one is undefined, and they have no meaning in a download URL.
 */
function checkLocalPlaceholders(placeholders: Placeholder[]): void {
  const byStart = new Map(placeholders.map((p) => [p.start, p]));
  const counts = new Map<string, number>();
  for (const p of placeholders) {
    if (p.depth === 0 || p.body.startsWith('aws:')) continue;
    let top = byStart.get(p.parentStart!)!;
    while (top.depth > 0) top = byStart.get(top.parentStart!)!;
    if (top.body.startsWith(PRESIGNED_UPLOAD_PREFIX)) {
      if (p.depth > 1 || !isUploadKeyPlaceholder(p.body)) fail(MESSAGES.undefinedLocal(p.body));
      const id = `${top.start}:${p.body}`;
      const n = (counts.get(id) ?? 0) + 1;
      if (n > MAX_EACH_UPLOAD_KEY_PLACEHOLDER) fail(MESSAGES.tooManyLocal(p.body));
      counts.set(id, n);
    } else if ((top.body.startsWith(PRESIGNED_V1_PREFIX) || top.body.startsWith(PRESIGNED_V2_PREFIX)) && isUploadKeyPlaceholder(p.body)) {
      fail(MESSAGES.localOutsideUpload(p.body));
    }
  }
}

function checkPlaceholders(doc: string): Placeholder[] {
  const { placeholders, unterminated } = scanPlaceholders(doc);
  if (unterminated) fail(MESSAGES.unterminated);
  checkLocalPlaceholders(placeholders);
  for (const p of placeholders) {
    if (!p.body.startsWith('aws:')) continue;
    const ref = parsePackageReference(p.body);
    if (p.depth > 0) {
      if (ref?.kind === 'artifact') fail(MESSAGES.artifactNested);
      if (ref?.kind === 'attributes') fail(MESSAGES.allAttributesAlone);
      fail(MESSAGES.secondLayer(p.body.slice(4).split(':').slice(0, 2).join(':')));
    }
    if (!ref) continue;
    if ((ref.packageName === '') !== (ref.versionName === '')) fail(MESSAGES.emptyPair);
    if (ref.versionName === '$null') fail(MESSAGES.nullVersion);
    if (ref.kind === 'attributes') {
      if (!isWholeJsonValue(doc, p) || placeholders.some((q) => q !== p && q.start > p.start && q.start < p.end)) fail(MESSAGES.allAttributesAlone);
    }
  }
  return placeholders;
}

function findDestination(ref: PackageReference, destinations: readonly DestinationPackageVersion[]): DestinationPackageVersion {
  if ((ref.packageName === '') !== (ref.versionName === '')) fail(MESSAGES.emptyPair);
  if (ref.packageName === '') {
    if (destinations.length > 1) fail(MESSAGES.emptyWithMany);
    if (destinations.length === 0) fail(MESSAGES.emptyWithNone);
    return destinations[0];
  }
  if (ref.versionName === '$null') fail(MESSAGES.nullVersion);
  const found = destinations.find(
    (d) => d.packageName === ref.packageName && (d.requestedVersionName === ref.versionName || d.versionName === ref.versionName),
  );
  return found ?? fail(MESSAGES.notDestination(ref.packageName, ref.versionName));
}

/**
 * Resolves `${aws:iot:parameter:NAME}` (names missing from `documentParameters` stay as they are)
 * and the package attribute placeholders, checking that every package/version the document names
 * (artifact placeholders included) is one of the destination package versions. Presigned URL
 * placeholders are left for resolvePresignedPlaceholders.
 */
export function resolveDocumentPlaceholders(
  raw: string,
  ctx: { documentParameters?: Record<string, string>; destinationPackageVersions: DestinationPackageVersion[] },
): string {
  if (!raw.includes('${')) return raw;
  const placeholders = checkPlaceholders(raw);
  const parameters = ctx.documentParameters ?? {};
  const pieces: string[] = [];
  let at = 0;
  const replace = (from: number, to: number, text: string) => {
    pieces.push(raw.slice(at, from), text);
    at = to;
  };
  for (const p of placeholders) {
    if (p.depth > 0 || p.start < at) continue;
    if (p.body.startsWith(PARAMETER_PREFIX)) {
      const name = p.body.slice(PARAMETER_PREFIX.length);
      if (Object.hasOwn(parameters, name)) replace(p.start, p.end, jsonStringContent(parameters[name]));
      continue;
    }
    const ref = parsePackageReference(p.body);
    if (!ref) continue;
    const dest = findDestination(ref, ctx.destinationPackageVersions);
    if (ref.kind === 'attribute') {
      const value = Object.hasOwn(dest.attributes, ref.key!) ? dest.attributes[ref.key!] : undefined;
      if (value === undefined) fail(MESSAGES.noAttribute(dest.packageName, dest.versionName, ref.key!));
      replace(p.start, p.end, jsonStringContent(value!));
    } else if (ref.kind === 'attributes') {
      // The quoted string becomes the attributes object.
      replace(p.start - 1, p.end + 1, JSON.stringify(dest.attributes));
    }
  }
  pieces.push(raw.slice(at));
  return pieces.join('');
}

/**
 * Only the `${aws:iot:parameter:NAME}` placeholders (names missing from `parameters` stay), e.g.
 * when a custom template is made from a job created with documentParameters: the template cannot
 * take parameters, while its package placeholders must still resolve when a job is made from it.
 */
export function resolveParameterPlaceholders(raw: string, parameters: Record<string, string>): string {
  if (!raw.includes(`\${${PARAMETER_PREFIX}`)) return raw;
  const { placeholders } = scanPlaceholders(raw);
  const pieces: string[] = [];
  let at = 0;
  for (const p of placeholders) {
    if (p.depth > 0 || !p.body.startsWith(PARAMETER_PREFIX)) continue;
    const name = p.body.slice(PARAMETER_PREFIX.length);
    if (!Object.hasOwn(parameters, name)) continue;
    pieces.push(raw.slice(at, p.start), jsonStringContent(parameters[name]));
    at = p.end;
  }
  pieces.push(raw.slice(at));
  return pieces.join('');
}

interface PresignTarget {
  placeholder: Placeholder;
  /** For an upload, the key may still hold `${thingName}`, `${jobId}` and `${executionNumber}`. */
  loc: S3Location;
  method: PresignMethod;
}

/** The key AWS IoT Jobs makes up when an upload URL names only a bucket (jobs.md §7.2). */
const GENERATED_UPLOAD_KEY = '${jobId}/${thingName}/${executionNumber}';

/** Bucket and key of an upload URL (S3-URL-encoded, like v2); a URL naming only a bucket gets a generated key. */
function uploadLocation(url: string): S3Location | undefined {
  const loc = parseS3ObjectUrl(url, true) ?? parseS3ObjectUrl(`${url.trim().replace(/\/$/, '')}/${GENERATED_UPLOAD_KEY}`, true);
  if (!loc) return undefined;
  if (loc.bucket.includes('${')) fail(MESSAGES.localInBucket(url));
  return { bucket: loc.bucket, key: loc.key };
}

/** The presigned-URL placeholders of a document with their S3 locations; throws what AWS refuses. */
function presignTargets(
  doc: string,
  ctx: { presignedUrlConfig?: { roleArn?: string }; destinationPackageVersions: readonly DestinationPackageVersion[] },
): PresignTarget[] {
  const out: PresignTarget[] = [];
  if (!doc.includes('${aws:iot:')) return out;
  const { placeholders, unterminated } = scanPlaceholders(doc);
  if (unterminated) fail(MESSAGES.unterminated);
  const hasRole = typeof ctx.presignedUrlConfig?.roleArn === 'string' && ctx.presignedUrlConfig.roleArn.length > 0;
  for (const p of placeholders) {
    if (p.depth > 0) continue;
    for (const [prefix, encoded] of [[PRESIGNED_V2_PREFIX, true], [PRESIGNED_V1_PREFIX, false]] as const) {
      if (!p.body.startsWith(prefix)) continue;
      if (!hasRole) fail(MESSAGES.roleRequired);
      const url = p.body.slice(prefix.length);
      out.push({ placeholder: p, loc: parseS3ObjectUrl(url.replace(/\\\//g, '/'), encoded) ?? fail(MESSAGES.badS3Url(url)), method: 'GET' });
    }
    if (p.body.startsWith(PRESIGNED_UPLOAD_PREFIX)) {
      if (!hasRole) fail(MESSAGES.roleRequired);
      const url = p.body.slice(PRESIGNED_UPLOAD_PREFIX.length);
      if (url.trim() === '') fail(MESSAGES.uploadWithoutBucket);
      out.push({ placeholder: p, loc: uploadLocation(url.replace(/\\\//g, '/')) ?? fail(MESSAGES.badS3Url(url)), method: 'PUT' });
      continue;
    }
    const ref = parsePackageReference(p.body);
    if (ref?.kind !== 'artifact') continue;
    const dest = findDestination(ref, ctx.destinationPackageVersions);
    if (!hasRole) fail(MESSAGES.packageRoleRequired(dest.packageName, dest.versionName));
    if (!dest.artifact) fail(MESSAGES.noArtifact(dest.packageName, dest.versionName));
    out.push({ placeholder: p, loc: dest.artifact!.s3Location, method: 'GET' });
  }
  return out;
}

/**
 * The CreateJob-time check of presigned placeholders (role ARN present, artifacts exist, URLs
 * parse, no local placeholder in an upload bucket), without signing anything.
 */
export function checkPresignedPlaceholders(
  doc: string,
  ctx: { presignedUrlConfig?: { roleArn?: string }; destinationPackageVersions: readonly DestinationPackageVersion[] },
): void {
  presignTargets(doc, ctx);
}

/** An upload key with the execution's values in place of its local placeholders. */
function fillUploadKey(key: string, execution: ExecutionIdentity): string {
  return key.replace(/\$\{(thingName|jobId|executionNumber)\}/g, (_, name: UploadKeyPlaceholder) => String(execution[name]));
}

/**
 * Replaces `${aws:iot:s3-presigned-url:…}`, `${aws:iot:s3-presigned-url-v2:…}` and the package
 * artifact placeholders with presigned GET URLs, and `${aws:iot:s3-presigned-url-upload:…}` with a
 * presigned PUT URL for the execution's own key, all valid for `presignedUrlConfig.expiresInSec`
 * (default 3600). Done on every device read; a document without placeholders is returned as is.
 */
export async function resolvePresignedPlaceholders(
  doc: string,
  ctx: {
    presignedUrlConfig?: { roleArn?: string; expiresInSec?: number };
    destinationPackageVersions: DestinationPackageVersion[];
    presign: Presign;
    /** Required when the document holds an upload placeholder: every device read names its execution. */
    execution?: ExecutionIdentity;
  },
): Promise<string> {
  const targets = presignTargets(doc, ctx);
  if (targets.length === 0) return doc;
  const expiresInSec = ctx.presignedUrlConfig?.expiresInSec ?? DEFAULT_PRESIGNED_EXPIRY_SEC;
  const signed = new Map<string, Promise<string>>();
  const urls = await Promise.all(
    targets.map((t) => {
      let loc = t.loc;
      if (t.method === 'PUT') {
        if (!ctx.execution) throw new Error('an upload placeholder can only be resolved for a job execution');
        loc = { bucket: loc.bucket, key: fillUploadKey(loc.key, ctx.execution) };
      }
      const id = JSON.stringify([t.method, loc.bucket, loc.key, loc.version ?? null]);
      let url = signed.get(id);
      if (!url) {
        url = ctx.presign(loc, expiresInSec, t.method);
        signed.set(id, url);
      }
      return url;
    }),
  );
  const pieces: string[] = [];
  let at = 0;
  targets.forEach((t, i) => {
    pieces.push(doc.slice(at, t.placeholder.start), jsonStringContent(urls[i]));
    at = t.placeholder.end;
  });
  pieces.push(doc.slice(at));
  return pieces.join('');
}

/**
 * Bucket, key and version of an S3 object URL, path-style (`https://s3.{region}.amazonaws.com/b/k`,
 * or any other host, e.g. this server's own S3 door) or virtual-hosted
 * (`https://b.s3.{region}.amazonaws.com/k`). v2 (`encoded`) URLs carry an S3-URL-encoded key and
 * may end in `%3FversionId%3D<v>`; v1 URLs carry the key as is.
 */
export function parseS3ObjectUrl(url: string, encoded: boolean): S3Location | undefined {
  let text = url.trim();
  let version: string | undefined;
  const decode = encoded ? decodeUrlComponent : (s: string): string | undefined => s;
  if (encoded) {
    const v = /%3FversionId%3D/i.exec(text);
    if (v) {
      version = decode(text.slice(v.index + v[0].length));
      if (!version) return undefined;
      text = text.slice(0, v.index);
    }
  }
  const m = /^https?:\/\/([^/?#]+)\/(.+)$/is.exec(text);
  if (!m) return undefined;
  const loc = s3LocationOfUrlParts(m[1].toLowerCase().replace(/:\d+$/, ''), m[2], decode);
  if (!loc) return undefined;
  return { ...loc, ...(version !== undefined ? { version } : {}) };
}
