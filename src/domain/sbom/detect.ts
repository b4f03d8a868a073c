import type { SbomFormat } from './results.js';

/**
 * Which standard a parsed document claims to follow (packages.md §9.8 step 4): SPDX when
 * `spdxVersion` is a string starting with `SPDX-`, CycloneDX when `bomFormat` is "CycloneDX".
 * The claimed version is returned as found; whether it is supported is the validator's call.
 */
export interface DetectedFormat {
  format: SbomFormat;
  /** `spdxVersion` or `specVersion`, as written (may be missing or not a string). */
  claimedVersion: unknown;
}

export function detectSbomFormat(doc: unknown): DetectedFormat | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const members = doc as Record<string, unknown>;
  if (typeof members.spdxVersion === 'string' && members.spdxVersion.startsWith('SPDX-')) {
    return { format: 'SPDX', claimedVersion: members.spdxVersion };
  }
  if (members.bomFormat === 'CycloneDX') return { format: 'CycloneDX', claimedVersion: members.specVersion };
  return undefined;
}

export function describeNeitherFormat(doc: unknown): string {
  const kind = doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc === 'object' ? undefined : `a ${typeof doc}`;
  if (kind) return `The file is neither an SPDX nor a CycloneDX document: the top-level JSON value is ${kind}, not an object.`;
  return 'The file is neither an SPDX nor a CycloneDX document: /spdxVersion does not start with "SPDX-" and /bomFormat is not "CycloneDX".';
}
