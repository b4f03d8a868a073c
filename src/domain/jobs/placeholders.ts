/**
 * Finding `${...}` placeholders in a job document's JSON text (jobs.md §7, packages.md §11.3).
 * Placeholders live inside JSON strings, so a raw `"` ends the string: a `${` still open at that
 * point (or at the end of the text) is unterminated. Nesting is tracked so callers can refuse
 * second-layer placeholders.
 */
export interface Placeholder {
  /** Index of `$`. */
  start: number;
  /** Index just past `}`. */
  end: number;
  /** The text between `${` and `}`. */
  body: string;
  /** 0 for a top-level placeholder. */
  depth: number;
  /** For a nested placeholder: the `start` of the placeholder around it. */
  parentStart?: number;
}

export interface ScanResult {
  placeholders: Placeholder[];
  unterminated: boolean;
}

export function scanPlaceholders(doc: string): ScanResult {
  const placeholders: Placeholder[] = [];
  const open: number[] = [];
  for (let i = 0; i < doc.length; i++) {
    const ch = doc[i];
    if (ch === '\\') {
      i++; // an escaped character inside a JSON string is never structure
    } else if (ch === '$' && doc[i + 1] === '{') {
      open.push(i);
      i++;
    } else if (ch === '}' && open.length > 0) {
      const start = open.pop()!;
      const parentStart = open.length > 0 ? open[open.length - 1] : undefined;
      placeholders.push({ start, end: i + 1, body: doc.slice(start + 2, i), depth: open.length, ...(parentStart !== undefined ? { parentStart } : {}) });
    } else if (ch === '"' && open.length > 0) {
      return { placeholders, unterminated: true };
    }
  }
  placeholders.sort((a, b) => a.start - b.start);
  return { placeholders, unterminated: open.length > 0 };
}

export type PackageReference = {
  kind: 'attribute' | 'attributes' | 'artifact';
  packageName: string;
  versionName: string;
  /** For 'attribute': the attribute key (keys may contain ':'). */
  key?: string;
};

const PACKAGE = /^aws:iot:package:([^:]*):version:([^:]*):(?:attributes(?::(.+))?|(artifact|artifact-location):s3-presigned-url)$/s;

/** Parses `aws:iot:package:<pkg>:version:<ver>:...` bodies; undefined for anything else. */
export function parsePackageReference(body: string): PackageReference | undefined {
  const m = PACKAGE.exec(body);
  if (!m) return undefined;
  const [, packageName, versionName, key, artifact] = m;
  if (artifact) return { kind: 'artifact', packageName, versionName };
  if (key !== undefined) return { kind: 'attribute', packageName, versionName, key };
  return { kind: 'attributes', packageName, versionName };
}

export const PARAMETER_PREFIX = 'aws:iot:parameter:';
export const PRESIGNED_V1_PREFIX = 'aws:iot:s3-presigned-url:';
export const PRESIGNED_V2_PREFIX = 'aws:iot:s3-presigned-url-v2:';
export const PRESIGNED_UPLOAD_PREFIX = 'aws:iot:s3-presigned-url-upload:';

/**
 * The local placeholders of an upload URL's key (`${thingName}` …), replaced per execution; each
 * may appear at most twice (jobs.md §7.2).
 */
export const UPLOAD_KEY_PLACEHOLDERS = ['thingName', 'jobId', 'executionNumber'] as const;
export type UploadKeyPlaceholder = (typeof UPLOAD_KEY_PLACEHOLDERS)[number];
export const MAX_EACH_UPLOAD_KEY_PLACEHOLDER = 2;

/** `"${...}"` makes up a whole JSON string that is a value (not a key). */
export function isWholeJsonValue(doc: string, p: Placeholder): boolean {
  if (doc[p.start - 1] !== '"' || doc[p.end] !== '"') return false;
  let slashes = 0;
  for (let i = p.start - 2; i >= 0 && doc[i] === '\\'; i--) slashes++;
  if (slashes % 2 === 1) return false;
  let i = p.end + 1;
  while (i < doc.length && /\s/.test(doc[i])) i++;
  return i === doc.length || doc[i] === ',' || doc[i] === '}' || doc[i] === ']';
}

/** Text to put inside a JSON string. */
export function jsonStringContent(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}
