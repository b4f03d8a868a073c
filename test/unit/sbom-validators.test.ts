import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { MAX_FILE_NAME_CHARS, overallStatus, prepareForStorage, type SbomFileResult } from '../../src/domain/sbom/results.js';
import { validateSbomFile } from '../../src/domain/sbom/validate-file.js';
import { cyclonedxNpmSbom, json, minimalCycloneDx, minimalSpdx, npmSbom } from '../support/sbom-fixtures.js';

async function check(doc: unknown, name = 'sbom.json'): Promise<SbomFileResult> {
  return validateSbomFile(name, typeof doc === 'string' || Buffer.isBuffer(doc) ? Buffer.from(doc) : json(doc));
}

function assertFailed(r: SbomFileResult, ...fragments: (string | RegExp)[]): void {
  assert.equal(r.validationResult, 'FAILED', `expected FAILED, got ${JSON.stringify(r)}`);
  assert.equal(r.errorCode, 'INCOMPATIBLE_FORMAT');
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(r.errorMessage?.includes(f), `errorMessage should contain ${JSON.stringify(f)}: ${r.errorMessage}`);
    else assert.match(r.errorMessage ?? '', f);
  }
}

function assertSucceeded(r: SbomFileResult, format: string, specVersion: string): void {
  assert.deepEqual(r, { fileName: r.fileName, validationResult: 'SUCCEEDED', format, specVersion });
}

describe('SBOM validation: documents made by real tools', () => {
  it('accepts npm sbom SPDX 2.3 output (created with milliseconds)', async () => {
    const text = await npmSbom('spdx');
    const doc = JSON.parse(text) as { spdxVersion: string; creationInfo: { created: string } };
    assert.equal(doc.spdxVersion, 'SPDX-2.3');
    assert.match(doc.creationInfo.created, /\.\d{3}Z$/, 'npm writes milliseconds; the validator must not reject them');
    assertSucceeded(await check(text, 'npm.spdx.json'), 'SPDX', '2.3');
  });

  it('accepts npm sbom CycloneDX output, and the same BOM declared as 1.6', async () => {
    const text = await npmSbom('cyclonedx');
    const doc = JSON.parse(text) as Record<string, unknown>;
    assertSucceeded(await check(text, 'npm.cdx.json'), 'CycloneDX', String(doc.specVersion));
    // 1.6 is a superset of 1.5 for everything npm writes.
    assertSucceeded(await check({ ...doc, $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json', specVersion: '1.6' }), 'CycloneDX', '1.6');
  });

  it('rejects the npm CycloneDX 1.5 BOM declared as 1.4 (metadata.lifecycles is 1.5+)', async () => {
    const doc = JSON.parse(await npmSbom('cyclonedx')) as Record<string, unknown>;
    assertFailed(await check({ ...doc, $schema: undefined, specVersion: '1.4' }), 'CycloneDX 1.4', 'at /metadata/lifecycles: member is not allowed here');
  });

  it('accepts @cyclonedx/cyclonedx-npm output when that tool is installed', async (t) => {
    const made = await cyclonedxNpmSbom();
    if ('skip' in made) {
      t.skip(made.skip);
      return;
    }
    const r = await check(made.sbom);
    assert.equal(r.validationResult, 'SUCCEEDED', JSON.stringify(r));
  });
});

describe('SBOM validation: valid hand-written documents', () => {
  it('accepts SPDX 2.3 and SPDX 2.2', async () => {
    assertSucceeded(await check(minimalSpdx('SPDX-2.3')), 'SPDX', '2.3');
    assertSucceeded(await check(minimalSpdx('SPDX-2.2')), 'SPDX', '2.2');
  });

  it('accepts an SPDX document using files, snippets, annotations, external refs and extracted licenses', async () => {
    const doc: Record<string, unknown> = {
      ...minimalSpdx(),
      externalDocumentRefs: [{ externalDocumentId: 'DocumentRef-base', spdxDocument: 'https://example.com/base', checksum: { algorithm: 'SHA256', checksumValue: 'ab'.repeat(32) } }],
      hasExtractedLicensingInfos: [{ licenseId: 'LicenseRef-own', extractedText: 'All rights reserved.', crossRefs: [{ url: 'https://example.com/l', isLive: true, order: 0 }] }],
      annotations: [{ annotationDate: '2026-01-01T00:00:00Z', annotationType: 'REVIEW', annotator: 'Person: A', comment: 'ok' }],
      files: [{ SPDXID: 'SPDXRef-File-main', fileName: './main.c', checksums: [{ algorithm: 'SHA1', checksumValue: 'a'.repeat(40) }], fileTypes: ['SOURCE'] }],
      snippets: [{
        SPDXID: 'SPDXRef-Snippet-1', name: 'snippet', snippetFromFile: 'SPDXRef-File-main',
        ranges: [{ startPointer: { reference: 'SPDXRef-File-main', offset: 10 }, endPointer: { reference: 'SPDXRef-File-main', offset: 20 } }],
      }],
    };
    (doc.packages as Record<string, unknown>[])[0].externalRefs = [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:generic/firmware@1.0.0' }];
    (doc.packages as Record<string, unknown>[])[0].primaryPackagePurpose = 'FIRMWARE';
    assertSucceeded(await check(doc), 'SPDX', '2.3');
  });

  it('accepts CycloneDX 1.4, 1.5, 1.6 (and 1.7)', async () => {
    for (const v of ['1.4', '1.5', '1.6', '1.7']) assertSucceeded(await check(minimalCycloneDx(v)), 'CycloneDX', v);
  });

  it('tolerates a UTF-8 byte-order mark', async () => {
    assertSucceeded(await check(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(minimalCycloneDx('1.5'))])), 'CycloneDX', '1.5');
  });
});

describe('SBOM validation: broken documents', () => {
  it('reports JSON syntax errors with line and column', async () => {
    assertFailed(await check('{\n  "bomFormat": "CycloneDX",\n  "specVersion": "1.6",\n}\n'), 'not valid JSON', 'line 4, column 1');
    assertFailed(await check('{"spdxVersion": "SPDX-2.3"'), 'not valid JSON', 'end of the file');
    assertFailed(await check(''), 'not valid JSON: it is empty');
    assertFailed(await check(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 'not UTF-8');
    assertFailed(await check('<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>'), 'not valid JSON');
  });

  it('rejects documents that are neither SPDX nor CycloneDX', async () => {
    assertFailed(await check({ name: 'x', packages: [] }), 'neither an SPDX nor a CycloneDX document', '/spdxVersion', '/bomFormat');
    assertFailed(await check([minimalSpdx()]), 'top-level JSON value is an array');
    assertFailed(await check('42'), 'top-level JSON value is a number');
    assertFailed(await check({ spdxVersion: '2.3', bomFormat: 'cyclonedx' }), 'neither');
  });

  it('rejects unsupported spec versions', async () => {
    const spdx21 = await check(minimalSpdx('SPDX-2.1'));
    assertFailed(spdx21, 'Unsupported SPDX version at /spdxVersion: "SPDX-2.1"', 'SPDX-2.3');
    assert.equal(spdx21.format, 'SPDX');
    assertFailed(await check(minimalSpdx('SPDX-3.0')), 'Unsupported SPDX version');
    assertFailed(await check({ ...minimalCycloneDx(), specVersion: '1.2' }), 'Unsupported CycloneDX version at /specVersion: found "1.2"', '1.4, 1.5, 1.6');
    assertFailed(await check({ bomFormat: 'CycloneDX' }), 'Unsupported CycloneDX version at /specVersion: it is missing');
  });

  it('lists every SPDX schema error with its JSON pointer', async () => {
    const doc = minimalSpdx();
    delete (doc.creationInfo as Record<string, unknown>).creators;
    const pkg = (doc.packages as Record<string, unknown>[])[0];
    delete pkg.downloadLocation;
    pkg.primaryPackagePurpose = 'GADGET';
    doc.$schema = 'https://spdx.org/schema/2.3';
    const r = await check(doc);
    assertFailed(r,
      'does not conform to the SPDX 2.3 JSON schema',
      'at /creationInfo/creators: required member is missing',
      'at /packages/0/downloadLocation: required member is missing',
      'at /packages/0/primaryPackagePurpose: value "GADGET" is not one of',
      'at /$schema: member is not allowed here');
    assert.equal(r.format, 'SPDX');
  });

  it('rejects missing top-level SPDX members, empty creators, bad relationship types, a file without checksums', async () => {
    const noName = minimalSpdx();
    delete noName.name;
    assertFailed(await check(noName), 'at /name: required member is missing');
    assertFailed(await check({ ...minimalSpdx(), creationInfo: { created: '2026-01-01T00:00:00Z', creators: [] } }), 'at /creationInfo/creators:', 'fewer than 1');
    assertFailed(await check({ ...minimalSpdx(), relationships: [{ spdxElementId: 'a', relatedSpdxElement: 'b', relationshipType: 'LIKES' }] }), 'at /relationships/0/relationshipType: value "LIKES"');
    assertFailed(await check({ ...minimalSpdx(), files: [{ SPDXID: 'SPDXRef-F', fileName: 'f', checksums: [] }] }), 'at /files/0/checksums');
    assertFailed(await check({ ...minimalSpdx(), packages: [{ SPDXID: 'SPDXRef-P', name: 'p', downloadLocation: 'x', filesAnalyzed: 'yes' }] }), 'at /packages/0/filesAnalyzed: must be of type boolean');
  });

  it('checks in code what the SPDX schema does not pin: dataLicense and the document SPDXID', async () => {
    assertFailed(await check({ ...minimalSpdx(), dataLicense: 'MIT' }), 'at /dataLicense: value "MIT" must be "CC0-1.0"');
    assertFailed(await check({ ...minimalSpdx(), SPDXID: 'SPDXRef-DOC' }), 'at /SPDXID: value "SPDXRef-DOC" must be "SPDXRef-DOCUMENT"');
  });

  it('caps the listed errors and counts the rest', async () => {
    const doc = { ...minimalSpdx(), packages: Array.from({ length: 8 }, (_, i) => ({ SPDXID: `SPDXRef-P${i}`, name: `p${i}` })) };
    const r = await check(doc);
    assertFailed(r, 'at /packages/0/downloadLocation', 'at /packages/4/downloadLocation', '(and 3 more errors)');
    assert.ok(!r.errorMessage!.includes('/packages/5/'));
  });

  it('rejects CycloneDX schema violations with the offending member', async () => {
    assertFailed(await check({ ...minimalCycloneDx('1.6'), extra: true }), 'CycloneDX 1.6', 'at /extra: member is not allowed here');
    assertFailed(await check({ ...minimalCycloneDx('1.5'), components: [{ type: 'library' }] }), 'at /components/0/name: required member is missing');
    assertFailed(await check({ ...minimalCycloneDx('1.6'), components: [{ type: 'gizmo', name: 'x' }] }), 'at /components/0/type: value "gizmo" is not one of');
    assertFailed(await check({ ...minimalCycloneDx('1.6'), version: 'one' }), 'at /version: must be of type integer');
  });

  it('names the bad license id rather than the oneOf alternatives', async () => {
    const doc = minimalCycloneDx('1.6');
    doc.components = [{ type: 'library', name: 'x', licenses: [{ license: { id: 'Not-A-License' } }] }];
    const r = await check(doc);
    assertFailed(r, 'at /components/0/licenses/0/license/id: value "Not-A-License" is not one of');
    assert.ok(!r.errorMessage!.includes('expression'), r.errorMessage);
  });

  it('requires `version` in CycloneDX 1.4 only', async () => {
    const { version: _omit, ...noVersion } = minimalCycloneDx('1.4');
    assertFailed(await check(noVersion), 'CycloneDX 1.4', 'at /version: required member is missing');
    const { version: _omit2, ...noVersion15 } = minimalCycloneDx('1.5');
    assertSucceeded(await check(noVersion15), 'CycloneDX', '1.5');
  });
});

describe('SBOM validation: CycloneDX verdicts agree with the library\'s JsonStrictValidator', () => {
  // Our CycloneDX validator compiles the library's bundled schemas itself (linear uniqueItems);
  // the library's own validator (null = valid, an array of ajv errors = invalid, in 10.x) is the oracle.
  const library = (v: string) => new Validation.JsonStrictValidator(v as Spec.Version);

  it('agrees on valid and invalid documents of every supported version', async () => {
    const npm = JSON.parse(await npmSbom('cyclonedx')) as Record<string, unknown>;
    const cases: Record<string, unknown>[] = [];
    for (const v of ['1.4', '1.5', '1.6', '1.7']) {
      const base = minimalCycloneDx(v);
      cases.push(
        base,
        { ...npm, specVersion: v, $schema: undefined },
        { ...base, extra: 1 },
        { ...base, components: [{ type: 'library' }] },
        { ...base, components: [{ type: 'gizmo', name: 'x' }] },
        { ...base, components: [{ type: 'library', name: 'x', licenses: [{ license: { id: 'Not-A-License' } }] }] },
        { ...base, components: [{ type: 'library', name: 'x' }, { name: 'x', type: 'library' }] },
        { ...base, components: [{ type: 'library', name: 'x', hashes: [{ alg: 'SHA-256', content: 'zz' }] }] },
        { ...base, metadata: { timestamp: 'yesterday' } },
        { ...base, serialNumber: 'not-a-urn' },
      );
    }
    for (const doc of cases) {
      const specVersion = String(doc.specVersion);
      const oracle = await library(specVersion).validate(JSON.stringify(doc));
      const ours = await check(doc);
      // The one rule we add: 1.4 requires `version` (all cases here have it).
      assert.equal(ours.validationResult === 'SUCCEEDED', oracle === null, `${specVersion}: ours ${JSON.stringify(ours)} vs library ${JSON.stringify(oracle)?.slice(0, 300)}`);
    }
  });

  it('finds a repeated component among many in linear time', async () => {
    const components = Array.from({ length: 60_000 }, (_, i) => ({ type: 'library', name: `c${i}`, version: '1.0.0', 'bom-ref': `c${i}` }));
    const started = performance.now();
    assertSucceeded(await check({ ...minimalCycloneDx('1.6'), components }), 'CycloneDX', '1.6');
    // Members in another order are still the same item (JSON Schema equality).
    const repeated = [...components, { version: '1.0.0', name: 'c7', 'bom-ref': 'c7', type: 'library' }];
    assertFailed(await check({ ...minimalCycloneDx('1.6'), components: repeated }), 'at /components: must NOT have duplicate items (items ## 7 and 60000 are identical)');
    // ajv's pairwise uniqueItems needs minutes here; a linear check takes well under a few seconds.
    assert.ok(performance.now() - started < 20_000, `took ${Math.round(performance.now() - started)} ms`);
  });
});

describe('SBOM validation: overall status and file names', () => {
  const ok = (fileName: string): SbomFileResult => ({ fileName, validationResult: 'SUCCEEDED' });
  const bad = (fileName: string): SbomFileResult => ({ fileName, validationResult: 'FAILED', errorCode: 'INCOMPATIBLE_FORMAT', errorMessage: 'x' });

  it('SUCCEEDED only with at least one file and every file succeeded', () => {
    assert.equal(overallStatus([]), 'FAILED');
    assert.equal(overallStatus([ok('a')]), 'SUCCEEDED');
    assert.equal(overallStatus([ok('a'), ok('b')]), 'SUCCEEDED');
    assert.equal(overallStatus([ok('a'), bad('b')]), 'FAILED');
  });

  it('keeps a result per zip entry even when names repeat', () => {
    assert.deepEqual(prepareForStorage([ok('a.json'), bad('a.json'), ok('b.json'), ok('a.json')]).map((r) => r.fileName), ['a.json', 'a.json (2)', 'b.json', 'a.json (3)']);
  });

  it('makes names and messages storable: no NUL or control characters, names of bounded length', async () => {
    const nul = await check(Buffer.from('{"a":\u0000}'), 'bad\u0000name\n.json');
    assert.match(nul.errorMessage!, /\u0000/, 'V8 quotes the offending character');
    const [stored] = prepareForStorage([nul]);
    assert.equal(stored.fileName, 'bad\ufffdname\ufffd.json');
    assert.ok(!stored.errorMessage!.includes('\u0000'));
    const [long, long2] = prepareForStorage([ok('x'.repeat(5000)), ok('x'.repeat(6000))]);
    assert.equal(long.fileName.length, MAX_FILE_NAME_CHARS);
    assert.equal(long2.fileName, `${long.fileName} (2)`);
  });
});
