import type { S3Location } from '../s3-location.js';
import { FieldErrors, NO_CONTROL_CHARS, NO_CONTROL_CHARS_TEXT } from '../validation.js';

/** Field constraints of the package catalog (packages.md §4). */
export const PACKAGE_NAME = { min: 1, max: 128, pattern: /^[a-zA-Z0-9\-_.]+$/, patternText: '[a-zA-Z0-9-_.]+' };
export const VERSION_NAME = { min: 1, max: 64, pattern: /^[a-zA-Z0-9\-_.]+$/, patternText: '[a-zA-Z0-9-_.]+' };
const ATTRIBUTE_KEY = { min: 1, pattern: /^[a-zA-Z0-9:_-]+$/, patternText: '[a-zA-Z0-9:_-]+' };
const ATTRIBUTE_VALUE = { min: 1, pattern: NO_CONTROL_CHARS, patternText: NO_CONTROL_CHARS_TEXT };
export const MAX_ATTRIBUTES_BYTES = 3072;
export const MAX_RECIPE_CHARS = 3072;

export type { S3Location };

export function checkPackageName(errors: FieldErrors, value: unknown): string | undefined {
  return errors.string(value, 'packageName', { required: true, ...PACKAGE_NAME });
}

export function checkVersionName(errors: FieldErrors, value: unknown, path = 'versionName'): string | undefined {
  return errors.string(value, path, { required: true, ...VERSION_NAME });
}

export function checkDescription(errors: FieldErrors, value: unknown): string | undefined {
  return errors.string(value, 'description', { max: 1024, pattern: NO_CONTROL_CHARS, patternText: NO_CONTROL_CHARS_TEXT });
}

/** Attributes: key/value patterns, and all keys plus values together at most 3 KB of UTF-8. */
export function checkAttributes(errors: FieldErrors, value: unknown): Record<string, string> | undefined {
  const attrs = errors.stringMap(value, 'attributes', { key: ATTRIBUTE_KEY, value: ATTRIBUTE_VALUE });
  if (!attrs) return undefined;
  let bytes = 0;
  for (const [k, v] of Object.entries(attrs)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (bytes > MAX_ATTRIBUTES_BYTES) {
    errors.addRaw(`The combined size of all attributes (${bytes} bytes) exceeds the limit of ${MAX_ATTRIBUTES_BYTES} bytes.`);
    return undefined;
  }
  return attrs;
}

export function checkRecipe(errors: FieldErrors, value: unknown): string | undefined {
  return errors.string(value, 'recipe', { max: MAX_RECIPE_CHARS });
}

/** `{ s3Location: { bucket, key, version } }` for an artifact; version is optional there. */
export function checkArtifact(errors: FieldErrors, value: unknown): { s3Location: S3Location } | undefined {
  const artifact = errors.object(value, 'artifact');
  if (!artifact) return undefined;
  const loc = errors.object(artifact.s3Location, 'artifact.s3Location', true);
  if (!loc) return undefined;
  const bucket = errors.string(loc.bucket, 'artifact.s3Location.bucket', { required: true, min: 1, max: 63 });
  const key = errors.string(loc.key, 'artifact.s3Location.key', { required: true, min: 1, max: 1024 });
  const version = errors.string(loc.version, 'artifact.s3Location.version', { min: 1, max: 1024 });
  if (bucket === undefined || key === undefined) return undefined;
  return { s3Location: { bucket, key, ...(version !== undefined ? { version } : {}) } };
}

/** The SBOM reference, with the troubleshooting guide's messages (packages.md §9.6). */
export function checkSbom(errors: FieldErrors, value: unknown): { s3Location: Required<S3Location> } | undefined {
  const sbom = errors.object(value, 'sbom');
  if (!sbom || sbom.s3Location === undefined || sbom.s3Location === null) {
    if (!errors.any) errors.addRaw('Associate request needs to include SBOM reference');
    return undefined;
  }
  const loc = errors.object(sbom.s3Location, 'sbom.s3Location', true);
  if (!loc) return undefined;
  const part = (v: unknown, what: string, max: number): string | undefined => {
    if (v === undefined || v === null || v === '') {
      errors.addRaw(`S3 ${what} for SBOM cannot be null`);
      return undefined;
    }
    if (typeof v !== 'string') {
      errors.addRaw('Please make sure SBOM S3 bucket name/key length/version is valid');
      return undefined;
    }
    if (v.length > max) {
      errors.addRaw(`S3 ${what} for SBOM is illegal. String length exceeds limit`);
      return undefined;
    }
    return v;
  };
  const bucket = part(loc.bucket, 'bucket name', 63);
  const key = part(loc.key, 'key name', 1024);
  const version = part(loc.version, 'object version', 1024);
  if (bucket === undefined || key === undefined || version === undefined) return undefined;
  return { s3Location: { bucket, key, version } };
}
