import { DomainError } from '../errors.js';
import { decodeUrlComponent, s3LocationOfUrlParts, type S3Location } from '../s3-location.js';
import { FieldErrors } from '../validation.js';
import { DEFAULT_PRESIGNED_EXPIRY_SEC } from './job-config-rules.js';
import {
  isWholeJsonValue,
  jsonStringContent,
  PARAMETER_PREFIX,
  parsePackageReference,
  PRESIGNED_V1_PREFIX,
  PRESIGNED_V2_PREFIX,
  scanPlaceholders,
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

export type Presign = (loc: S3Location, expiresInSec: number) => Promise<string>;

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

function checkPlaceholders(doc: string): Placeholder[] {
  const { placeholders, unterminated } = scanPlaceholders(doc);
  if (unterminated) fail(MESSAGES.unterminated);
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
  loc: S3Location;
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
      out.push({ placeholder: p, loc: parseS3ObjectUrl(url.replace(/\\\//g, '/'), encoded) ?? fail(MESSAGES.badS3Url(url)) });
    }
    const ref = parsePackageReference(p.body);
    if (ref?.kind !== 'artifact') continue;
    const dest = findDestination(ref, ctx.destinationPackageVersions);
    if (!hasRole) fail(MESSAGES.packageRoleRequired(dest.packageName, dest.versionName));
    if (!dest.artifact) fail(MESSAGES.noArtifact(dest.packageName, dest.versionName));
    out.push({ placeholder: p, loc: dest.artifact!.s3Location });
  }
  return out;
}

/**
 * The CreateJob-time check of presigned placeholders (role ARN present, artifacts exist, URLs
 * parse), without signing anything.
 */
export function checkPresignedPlaceholders(
  doc: string,
  ctx: { presignedUrlConfig?: { roleArn?: string }; destinationPackageVersions: readonly DestinationPackageVersion[] },
): void {
  presignTargets(doc, ctx);
}

/**
 * Replaces `${aws:iot:s3-presigned-url:…}`, `${aws:iot:s3-presigned-url-v2:…}` and the package
 * artifact placeholders with presigned GET URLs, valid for `presignedUrlConfig.expiresInSec`
 * (default 3600). Done on every device read; a document without placeholders is returned as is.
 */
export async function resolvePresignedPlaceholders(
  doc: string,
  ctx: {
    presignedUrlConfig?: { roleArn?: string; expiresInSec?: number };
    destinationPackageVersions: DestinationPackageVersion[];
    presign: Presign;
  },
): Promise<string> {
  const targets = presignTargets(doc, ctx);
  if (targets.length === 0) return doc;
  const expiresInSec = ctx.presignedUrlConfig?.expiresInSec ?? DEFAULT_PRESIGNED_EXPIRY_SEC;
  const signed = new Map<string, Promise<string>>();
  const urls = await Promise.all(
    targets.map((t) => {
      const id = JSON.stringify([t.loc.bucket, t.loc.key, t.loc.version ?? null]);
      let url = signed.get(id);
      if (!url) {
        url = ctx.presign(t.loc, expiresInSec);
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
