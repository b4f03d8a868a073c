/**
 * Our own JSON Schema (draft-07) for SPDX 2.3 JSON documents, written from the SPDX 2.3
 * specification (clauses 6–12 and Annex on the JSON serialization) and the facts in
 * packages.md §9.9. No npm package ships the SPDX document schema (dependencies.md §6.2), and
 * nothing may be loaded from outside the project at run time, so it lives here as code.
 *
 * What it deliberately does NOT check, matching the published schema: date formats (`npm sbom`
 * writes `created` with milliseconds), `documentNamespace` (required by the prose, not the
 * schema), the pinned `spdxVersion` / `dataLicense` / `SPDXID` values — those three are checked
 * in code by spdx-validator.ts, so the messages can name the accepted values.
 */

type Schema = Record<string, unknown>;

const string: Schema = { type: 'string' };
const integer: Schema = { type: 'integer' };
const boolean: Schema = { type: 'boolean' };
const strings: Schema = { type: 'array', items: string };

/** A closed object: only the listed members, the `required` ones present. */
function record(required: string[], properties: Record<string, Schema>): Schema {
  return { type: 'object', required, properties, additionalProperties: false };
}

function arrayOf(items: Schema, minItems?: number): Schema {
  return minItems === undefined ? { type: 'array', items } : { type: 'array', items, minItems };
}

function oneOfValues(values: readonly string[]): Schema {
  return { type: 'string', enum: [...values] };
}

/** SPDX 2.3 §7.10, §8.4: checksum algorithms. */
export const SPDX_CHECKSUM_ALGORITHMS = [
  'SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512',
  'SHA3-256', 'SHA3-384', 'SHA3-512',
  'BLAKE2b-256', 'BLAKE2b-384', 'BLAKE2b-512', 'BLAKE3',
  'MD2', 'MD4', 'MD5', 'MD6', 'ADLER32',
] as const;

/** SPDX 2.3 §7.24: primary package purpose. */
export const SPDX_PACKAGE_PURPOSES = [
  'APPLICATION', 'FRAMEWORK', 'LIBRARY', 'CONTAINER', 'OPERATING_SYSTEM', 'DEVICE',
  'FIRMWARE', 'SOURCE', 'ARCHIVE', 'FILE', 'INSTALL', 'OTHER',
] as const;

/** SPDX 2.3 §7.21: external reference categories (the JSON form uses hyphens). */
export const SPDX_REFERENCE_CATEGORIES = ['SECURITY', 'PACKAGE-MANAGER', 'PERSISTENT-ID', 'OTHER'] as const;

/** SPDX 2.3 §8.3: file types. */
export const SPDX_FILE_TYPES = [
  'SOURCE', 'BINARY', 'ARCHIVE', 'APPLICATION', 'AUDIO', 'IMAGE', 'TEXT', 'VIDEO',
  'DOCUMENTATION', 'SPDX', 'OTHER',
] as const;

/** SPDX 2.3 §12.2: annotation types. */
export const SPDX_ANNOTATION_TYPES = ['REVIEW', 'OTHER'] as const;

/** SPDX 2.3 §11.1: the 45 relationship types. */
export const SPDX_RELATIONSHIP_TYPES = [
  'DESCRIBES', 'DESCRIBED_BY', 'CONTAINS', 'CONTAINED_BY', 'DEPENDS_ON', 'DEPENDENCY_OF',
  'DEPENDENCY_MANIFEST_OF', 'BUILD_DEPENDENCY_OF', 'DEV_DEPENDENCY_OF', 'OPTIONAL_DEPENDENCY_OF',
  'PROVIDED_DEPENDENCY_OF', 'TEST_DEPENDENCY_OF', 'RUNTIME_DEPENDENCY_OF', 'EXAMPLE_OF', 'GENERATES',
  'GENERATED_FROM', 'ANCESTOR_OF', 'DESCENDANT_OF', 'VARIANT_OF', 'DISTRIBUTION_ARTIFACT', 'PATCH_FOR',
  'PATCH_APPLIED', 'COPY_OF', 'FILE_ADDED', 'FILE_DELETED', 'FILE_MODIFIED', 'EXPANDED_FROM_ARCHIVE',
  'DYNAMIC_LINK', 'STATIC_LINK', 'DATA_FILE_OF', 'TEST_CASE_OF', 'BUILD_TOOL_OF', 'DEV_TOOL_OF', 'TEST_OF',
  'TEST_TOOL_OF', 'DOCUMENTATION_OF', 'OPTIONAL_COMPONENT_OF', 'METAFILE_OF', 'PACKAGE_OF', 'AMENDS',
  'PREREQUISITE_FOR', 'HAS_PREREQUISITE', 'REQUIREMENT_DESCRIPTION_FOR', 'SPECIFICATION_FOR', 'OTHER',
] as const;

const checksum = record(['algorithm', 'checksumValue'], {
  algorithm: oneOfValues(SPDX_CHECKSUM_ALGORITHMS),
  checksumValue: string,
});

const annotation = record(['annotationDate', 'annotationType', 'annotator', 'comment'], {
  annotationDate: string,
  annotationType: oneOfValues(SPDX_ANNOTATION_TYPES),
  annotator: string,
  comment: string,
});
const annotations = arrayOf(annotation);

/** §9.3–9.4: a snippet's start or end, by byte offset and/or line number in a file. */
const pointer = record(['reference'], { reference: string, offset: integer, lineNumber: integer });

const creationInfo = record(['created', 'creators'], {
  comment: string,
  created: string,
  creators: arrayOf(string, 1),
  licenseListVersion: string,
});

const externalDocumentRef = record(['checksum', 'externalDocumentId', 'spdxDocument'], {
  checksum,
  externalDocumentId: string,
  spdxDocument: string,
});

const crossRef = record(['url'], {
  isLive: boolean,
  isValid: boolean,
  isWayBackLink: boolean,
  match: string,
  order: integer,
  timestamp: string,
  url: string,
});

const extractedLicensingInfo = record(['extractedText', 'licenseId'], {
  comment: string,
  crossRefs: arrayOf(crossRef),
  extractedText: string,
  licenseId: string,
  name: string,
  seeAlsos: strings,
});

const review = record(['reviewDate'], { comment: string, reviewDate: string, reviewer: string });

const externalRef = record(['referenceCategory', 'referenceLocator', 'referenceType'], {
  comment: string,
  referenceCategory: oneOfValues(SPDX_REFERENCE_CATEGORIES),
  referenceLocator: string,
  referenceType: string,
});

const spdxPackage = record(['SPDXID', 'downloadLocation', 'name'], {
  SPDXID: string,
  annotations,
  attributionTexts: strings,
  builtDate: string,
  checksums: arrayOf(checksum),
  comment: string,
  copyrightText: string,
  description: string,
  downloadLocation: string,
  externalRefs: arrayOf(externalRef),
  filesAnalyzed: boolean,
  hasFiles: strings,
  homepage: string,
  licenseComments: string,
  licenseConcluded: string,
  licenseDeclared: string,
  licenseInfoFromFiles: strings,
  name: string,
  originator: string,
  packageFileName: string,
  packageVerificationCode: record(['packageVerificationCodeValue'], {
    packageVerificationCodeExcludedFiles: strings,
    packageVerificationCodeValue: string,
  }),
  primaryPackagePurpose: oneOfValues(SPDX_PACKAGE_PURPOSES),
  releaseDate: string,
  sourceInfo: string,
  summary: string,
  supplier: string,
  validUntilDate: string,
  versionInfo: string,
});

const spdxFile = record(['SPDXID', 'checksums', 'fileName'], {
  SPDXID: string,
  annotations,
  // Deprecated DOAP project references; their members are not specified, so any object.
  artifactOfs: arrayOf({ type: 'object' }),
  attributionTexts: strings,
  checksums: arrayOf(checksum, 1),
  comment: string,
  copyrightText: string,
  fileContributors: strings,
  fileDependencies: strings,
  fileName: string,
  fileTypes: arrayOf(oneOfValues(SPDX_FILE_TYPES)),
  licenseComments: string,
  licenseConcluded: string,
  licenseInfoInFiles: strings,
  noticeText: string,
});

const snippet = record(['SPDXID', 'name', 'ranges', 'snippetFromFile'], {
  SPDXID: string,
  annotations,
  attributionTexts: strings,
  comment: string,
  copyrightText: string,
  licenseComments: string,
  licenseConcluded: string,
  licenseInfoInSnippets: strings,
  name: string,
  ranges: arrayOf(record(['endPointer', 'startPointer'], { endPointer: pointer, startPointer: pointer }), 1),
  snippetFromFile: string,
});

const relationship = record(['spdxElementId', 'relatedSpdxElement', 'relationshipType'], {
  spdxElementId: string,
  comment: string,
  relatedSpdxElement: string,
  relationshipType: oneOfValues(SPDX_RELATIONSHIP_TYPES),
});

/** The document. Closed at the top: a stray member (even `$schema`) fails, as upstream. */
export const SPDX_2_3_SCHEMA: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:fleetjobs:sbom:spdx-2.3-document',
  title: 'SPDX 2.3 document (JSON)',
  ...record(['SPDXID', 'creationInfo', 'dataLicense', 'name', 'spdxVersion'], {
    SPDXID: string,
    annotations,
    comment: string,
    creationInfo,
    dataLicense: string,
    externalDocumentRefs: arrayOf(externalDocumentRef),
    hasExtractedLicensingInfos: arrayOf(extractedLicensingInfo),
    name: string,
    revieweds: arrayOf(review),
    spdxVersion: string,
    documentNamespace: string,
    documentDescribes: strings,
    packages: arrayOf(spdxPackage),
    files: arrayOf(spdxFile),
    snippets: arrayOf(snippet),
    relationships: arrayOf(relationship),
  }),
};
