import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { type SchemaError, formatSchemaErrors } from './schema-errors.js';
import { SPDX_2_3_SCHEMA } from './spdx-schema.js';
import { incompatibleFormat, succeeded, type SbomFileResult } from './results.js';

/**
 * SPDX 2.2 / 2.3 JSON documents (packages.md §9.9): our schema (spdx-schema.ts) compiled once
 * with ajv (draft-07, all errors), plus what the schema does not pin, checked in code.
 * A 2.2 document is checked against the 2.3 schema: 2.3 only added optional members and values.
 */
export const SUPPORTED_SPDX_VERSIONS: readonly string[] = ['SPDX-2.3', 'SPDX-2.2'];
const DATA_LICENSE = 'CC0-1.0';
const DOCUMENT_SPDXID = 'SPDXRef-DOCUMENT';

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false, coerceTypes: false });
    // Formats are registered for completeness; the schema applies none, because the published
    // schema applies none and real tools (npm) write dates it would otherwise reject.
    addFormatsModule.default(ajv);
    compiled = ajv.compile(SPDX_2_3_SCHEMA);
  }
  return compiled;
}

export function validateSpdx(fileName: string, doc: Record<string, unknown>): SbomFileResult {
  const version = String(doc.spdxVersion);
  const specVersion = version.slice('SPDX-'.length);
  if (!SUPPORTED_SPDX_VERSIONS.includes(version)) {
    return incompatibleFormat(
      fileName,
      `Unsupported SPDX version at /spdxVersion: ${JSON.stringify(version)}; supported versions are ${SUPPORTED_SPDX_VERSIONS.join(', ')}.`,
      { format: 'SPDX', specVersion },
    );
  }
  const validate = schemaValidator();
  const errors: SchemaError[] = validate(doc) ? [] : [...(validate.errors ?? [])];
  // The pinned values: only when present as strings (a missing or mistyped one is a schema error already).
  if (typeof doc.dataLicense === 'string' && doc.dataLicense !== DATA_LICENSE) {
    errors.push({ instancePath: '/dataLicense', keyword: 'const', params: { allowedValue: DATA_LICENSE }, message: undefined });
  }
  if (typeof doc.SPDXID === 'string' && doc.SPDXID !== DOCUMENT_SPDXID) {
    errors.push({ instancePath: '/SPDXID', keyword: 'const', params: { allowedValue: DOCUMENT_SPDXID }, message: undefined });
  }
  if (errors.length === 0) return succeeded(fileName, 'SPDX', specVersion);
  return incompatibleFormat(fileName, formatSchemaErrors(`The file does not conform to the SPDX ${specVersion} JSON schema`, errors, doc), { format: 'SPDX', specVersion });
}
