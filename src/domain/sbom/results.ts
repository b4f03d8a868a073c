/**
 * Per-file SBOM validation results and the overall status (packages.md §9.3, §9.8 step 5).
 * The names are AWS's: SbomValidationResultSummary / SbomValidationResult / SbomValidationErrorCode.
 */
export type SbomValidationResult = 'SUCCEEDED' | 'FAILED';
export type SbomValidationErrorCode = 'INCOMPATIBLE_FORMAT' | 'FILE_SIZE_LIMIT_EXCEEDED';
export type SbomFormat = 'SPDX' | 'CycloneDX';

export interface SbomFileResult {
  fileName: string;
  validationResult: SbomValidationResult;
  errorCode?: SbomValidationErrorCode;
  errorMessage?: string;
  /** What the file was recognised as (not part of the AWS summary; for logs and tests). */
  format?: SbomFormat;
  specVersion?: string;
}

/** Longest errorMessage stored; a schema report is cut here rather than growing without bound. */
export const MAX_ERROR_MESSAGE_CHARS = 2000;

function clip(message: string): string {
  return message.length > MAX_ERROR_MESSAGE_CHARS ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : message;
}

export function succeeded(fileName: string, format: SbomFormat, specVersion: string): SbomFileResult {
  return { fileName, validationResult: 'SUCCEEDED', format, specVersion };
}

export function incompatibleFormat(fileName: string, errorMessage: string, recognised?: { format: SbomFormat; specVersion?: string }): SbomFileResult {
  return { fileName, validationResult: 'FAILED', errorCode: 'INCOMPATIBLE_FORMAT', errorMessage: clip(errorMessage), ...recognised };
}

export function fileSizeLimitExceeded(fileName: string, errorMessage: string): SbomFileResult {
  return { fileName, validationResult: 'FAILED', errorCode: 'FILE_SIZE_LIMIT_EXCEEDED', errorMessage: clip(errorMessage) };
}

/** A failure that is about reaching the SBOM, not its content: AWS models no error code for it. */
export function failedWithoutCode(fileName: string, errorMessage: string): SbomFileResult {
  return { fileName, validationResult: 'FAILED', errorMessage: clip(errorMessage) };
}

/** SUCCEEDED only when there is at least one file and every file succeeded. */
export function overallStatus(results: readonly SbomFileResult[]): SbomValidationResult {
  return results.length > 0 && results.every((r) => r.validationResult === 'SUCCEEDED') ? 'SUCCEEDED' : 'FAILED';
}

/** Longest file name stored (zip entry names may be up to 64 KiB; database keys must stay small). */
export const MAX_FILE_NAME_CHARS = 1024;

/** NUL cannot be stored in PostgreSQL text; other control characters only garble a listing. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, '\ufffd');
}

/**
 * Makes results storable: printable file names of bounded length, unique (a zip may hold the
 * same name twice — later duplicates get a ` (2)`, ` (3)` … suffix so each entry keeps its own
 * result), and messages without NUL characters (a JSON syntax error may quote the file's bytes).
 */
export function prepareForStorage(results: readonly SbomFileResult[]): SbomFileResult[] {
  const used = new Set<string>();
  return results.map((r) => {
    let base = printable(r.fileName);
    if (base.length > MAX_FILE_NAME_CHARS) base = `${base.slice(0, MAX_FILE_NAME_CHARS - 1)}…`;
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base} (${n})`;
    used.add(name);
    const errorMessage = r.errorMessage === undefined ? undefined : printable(r.errorMessage);
    return { ...r, fileName: name, ...(errorMessage !== undefined ? { errorMessage } : {}) };
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB (${bytes} bytes)`;
  return `${bytes} bytes`;
}
