import { validateCycloneDx } from './cyclonedx-validator.js';
import { describeNeitherFormat, detectSbomFormat } from './detect.js';
import { parseJsonDocument } from './json-document.js';
import { incompatibleFormat, type SbomFileResult } from './results.js';
import { validateSpdx } from './spdx-validator.js';

/**
 * Validates one SBOM file's bytes (packages.md §9.8 step 4): JSON, then SPDX or CycloneDX by
 * detection, then that standard's schema. Never throws for bad content; every problem becomes a
 * FAILED / INCOMPATIBLE_FORMAT result. Size limits are the caller's (it decides what to read).
 * Synchronous CPU work: the worker runs it on a validation thread.
 */
export function validateSbomFile(fileName: string, bytes: Uint8Array): SbomFileResult {
  const parsed = parseJsonDocument(bytes);
  if (!parsed.ok) return incompatibleFormat(fileName, parsed.message);
  const doc = parsed.value;
  const detected = detectSbomFormat(doc);
  if (!detected) return incompatibleFormat(fileName, describeNeitherFormat(doc));
  try {
    return detected.format === 'SPDX'
      ? validateSpdx(fileName, doc as Record<string, unknown>)
      : validateCycloneDx(fileName, doc as Record<string, unknown>);
  } catch (err) {
    // Schema validation recurses with the document; absurd nesting must fail the file, not the server.
    if (err instanceof RangeError) {
      return incompatibleFormat(fileName, `The file could not be validated: it is nested too deeply (${err.message}).`, { format: detected.format });
    }
    throw err;
  }
}
