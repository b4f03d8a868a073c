import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { type SchemaError, formatSchemaErrors } from './schema-errors.js';
import { incompatibleFormat, succeeded, type SbomFileResult } from './results.js';
import { uniqueItemsKeyword } from './unique-items.js';

/**
 * CycloneDX JSON documents against the official schemas that @cyclonedx/cyclonedx-library ships
 * (res/schema, dependencies.md §6.1), compiled the way its `Validation.JsonStrictValidator` does
 * (ajv draft-07, strict off, remote refs off, ajv-formats + idn-email, `iri-reference` accepted,
 * the spdx / jsf / cryptography-defs schemas mapped to their URLs).
 *
 * Why not call JsonStrictValidator itself: ajv's built-in `uniqueItems` compares every pair of
 * items, and the CycloneDX schemas put it on `components`, `dependencies` and ~40 other arrays.
 * A 50 MB BOM with 90,000 components did not finish validating in ten minutes — and a hostile
 * upload could pin the process. Here `uniqueItems` is replaced by a linear, hash-based check with
 * the same meaning (unique-items.ts); everything else is the library's schema and settings.
 * test/unit/sbom-validators.test.ts checks our verdicts against JsonStrictValidator's.
 *
 * One compiled validator per spec version, built on first use and kept.
 */
export const SUPPORTED_CYCLONEDX_VERSIONS: readonly string[] = ['1.4', '1.5', '1.6', '1.7'];

const require = createRequire(import.meta.url);
const SCHEMA_DIR = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
const addFormats2019 = require('ajv-formats-draft2019') as (ajv: Ajv, options: { formats: string[] }) => Ajv;

/** The side schemas the BOM schemas reference, under the URLs their relative $refs resolve to. */
const REFERENCED_SCHEMAS: Record<string, string> = {
  'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': 'spdx.SNAPSHOT.schema.json',
  'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': 'jsf-0.82.SNAPSHOT.schema.json',
  'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': 'cryptography-defs.SNAPSHOT.schema.json',
};

function readSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;
}

const validators = new Map<string, ValidateFunction>();

function validatorFor(specVersion: string): ValidateFunction {
  let validate = validators.get(specVersion);
  if (!validate) {
    const schemas = Object.fromEntries(Object.entries(REFERENCED_SCHEMAS).map(([url, file]) => [url, readSchema(file)]));
    const options: Options = {
      allErrors: true,
      useDefaults: false,
      strict: false,
      strictSchema: false,
      addUsedSchema: false,
      loadSchema: (uri: string) => {
        throw new Error(`Remote schemas are disabled: ${uri}`);
      },
      schemas,
    };
    const ajv = new Ajv(options);
    addFormatsModule.default(ajv);
    addFormats2019(ajv, { formats: ['idn-email'] });
    // As the library: no working implementation exists for "iri-reference".
    ajv.addFormat('iri-reference', true);
    ajv.removeKeyword('uniqueItems');
    ajv.addKeyword(uniqueItemsKeyword);
    validate = ajv.compile(readSchema(`bom-${specVersion}.SNAPSHOT.schema.json`));
    validators.set(specVersion, validate);
  }
  return validate;
}

export function validateCycloneDx(fileName: string, doc: Record<string, unknown>): SbomFileResult {
  const { specVersion } = doc;
  if (typeof specVersion !== 'string' || !SUPPORTED_CYCLONEDX_VERSIONS.includes(specVersion)) {
    const found = specVersion === undefined ? 'it is missing' : `found ${JSON.stringify(specVersion)}`;
    return incompatibleFormat(
      fileName,
      `Unsupported CycloneDX version at /specVersion: ${found}; supported versions are ${SUPPORTED_CYCLONEDX_VERSIONS.join(', ')}.`,
      { format: 'CycloneDX', ...(typeof specVersion === 'string' ? { specVersion } : {}) },
    );
  }
  const errors: SchemaError[] = [];
  // CycloneDX 1.4 requires `version`; the library's bundled 1.4 schema dropped that rule.
  if (specVersion === '1.4' && !Object.prototype.hasOwnProperty.call(doc, 'version')) {
    errors.push({ instancePath: '', keyword: 'required', params: { missingProperty: 'version' }, message: undefined });
  }
  const validate = validatorFor(specVersion);
  if (!validate(doc)) errors.push(...(validate.errors ?? []));
  if (errors.length === 0) return succeeded(fileName, 'CycloneDX', specVersion);
  return incompatibleFormat(fileName, formatSchemaErrors(`The file does not conform to the CycloneDX ${specVersion} JSON schema`, errors, doc), { format: 'CycloneDX', specVersion });
}
