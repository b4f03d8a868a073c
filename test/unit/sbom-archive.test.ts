import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { validateSbomFile } from '../../src/domain/sbom/validate-file.js';
import { sbomFilesOf, type SbomFileItem, type SbomReadLimits } from '../../src/workers/sbom-archive.js';
import { json, minimalCycloneDx, minimalSpdx, npmSbom } from '../support/sbom-fixtures.js';
import { buildZip, type ZipEntrySpec } from '../support/zip-writer.js';

const MiB = 1024 * 1024;
const LIMITS: SbomReadLimits = {
  maxArchiveBytes: 8 * MiB,
  maxFileBytes: 2 * MiB,
  maxEntries: 50,
  maxTotalUncompressedBytes: 5 * MiB,
  maxCompressionRatio: 100,
};

interface Walked {
  fileName: string;
  result: string;
  errorCode?: string;
  errorMessage?: string;
}

let tempDir: string;

/** Walks an object as the worker does, validating what can be read. */
async function walk(bytes: Buffer, key = 'sboms/bundle.zip', limits: SbomReadLimits = LIMITS, opts: { size?: number; chunk?: number } = {}): Promise<Walked[]> {
  const chunk = opts.chunk ?? 64 * 1024;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  const body = Readable.from(chunks);
  const out: Walked[] = [];
  for await (const item of sbomFilesOf({ key, size: opts.size ?? bytes.length, body }, limits, tempDir)) {
    const r = 'result' in item ? item.result : await validateSbomFile(item.fileName, (item as Extract<SbomFileItem, { bytes: Buffer }>).bytes);
    out.push({ fileName: r.fileName, result: r.validationResult, ...(r.errorCode ? { errorCode: r.errorCode } : {}), ...(r.errorMessage ? { errorMessage: r.errorMessage } : {}) });
  }
  return out;
}

function byName(results: Walked[]): Record<string, Walked> {
  return Object.fromEntries(results.map((r) => [r.fileName, r]));
}

/** Highly compressible bytes: a valid-looking JSON prefix followed by spaces. */
function bomb(bytes: number): Buffer {
  const b = Buffer.alloc(bytes, 0x20);
  b.write('{"bomFormat":"CycloneDX","specVersion":"1.6"', 0);
  return b;
}

before(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'fleetjobs-sbom-archive-'));
});
after(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

describe('SBOM objects: single files', () => {
  it('validates a bare JSON object as one file named after the key', async () => {
    const results = await walk(json(minimalSpdx()), 'releases/1.0/firmware.spdx.json');
    assert.deepEqual(results, [{ fileName: 'firmware.spdx.json', result: 'SUCCEEDED' }]);
  });

  it('reports a file above the per-file limit without reading it, from the size the store reports', async () => {
    const [r] = await walk(json(minimalSpdx()), 'big.json', LIMITS, { size: 3 * MiB });
    assert.equal(r.errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
    assert.match(r.errorMessage!, /per-file limit is 2 MiB/);
  });

  it('stops reading a file that turns out larger than the limit', async () => {
    const [r] = await walk(bomb(3 * MiB), 'sbom.json', LIMITS, { size: 100 });
    assert.equal(r.fileName, 'sbom.json');
    assert.equal(r.errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
  });

  it('refuses an object above the archive limit', async () => {
    const [r] = await walk(Buffer.from('PK\x03\x04'), 'huge.zip', LIMITS, { size: 9 * MiB });
    assert.equal(r.errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
    assert.match(r.errorMessage!, /S3 object file size exceeds limit/);
  });

  it('treats an empty object as a file that is not JSON', async () => {
    assert.deepEqual((await walk(Buffer.alloc(0), 'empty.json')).map((r) => [r.fileName, r.errorCode]), [['empty.json', 'INCOMPATIBLE_FORMAT']]);
  });
});

describe('SBOM objects: zip archives', () => {
  it('validates each entry, skipping directories and __MACOSX, with real tool output inside', async () => {
    const spdx = await npmSbom('spdx');
    const zip = buildZip([
      { name: 'sboms/' },
      { name: 'sboms/app.spdx.json', data: spdx, method: 'deflate' },
      { name: 'sboms/lib.cdx.json', data: json(minimalCycloneDx('1.4')) },
      { name: 'sboms/broken.json', data: '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library"}]}', method: 'deflate' },
      { name: 'sboms/notes.txt', data: 'not an SBOM' },
      { name: '__MACOSX/' },
      { name: '__MACOSX/sboms/._app.spdx.json', data: Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]) },
    ]);
    const results = await walk(zip);
    assert.deepEqual(results.map((r) => r.fileName), ['sboms/app.spdx.json', 'sboms/lib.cdx.json', 'sboms/broken.json', 'sboms/notes.txt']);
    const r = byName(results);
    assert.equal(r['sboms/app.spdx.json'].result, 'SUCCEEDED');
    assert.equal(r['sboms/lib.cdx.json'].result, 'SUCCEEDED');
    assert.equal(r['sboms/broken.json'].errorCode, 'INCOMPATIBLE_FORMAT');
    assert.match(r['sboms/broken.json'].errorMessage!, /at \/components\/0\/name: required member is missing/);
    assert.match(r['sboms/notes.txt'].errorMessage!, /not valid JSON/);
  });

  it('removes the spooled archive afterwards', async () => {
    await walk(buildZip([{ name: 'a.json', data: json(minimalSpdx()) }]));
    assert.deepEqual(await readdir(tempDir), []);
  });

  it('stops a zip bomb by its declared size without inflating it', async () => {
    const zip = buildZip([{ name: 'bomb.json', data: bomb(40 * MiB), method: 'deflate' }, { name: 'ok.json', data: json(minimalSpdx()) }]);
    assert.ok(zip.length < 100 * 1024, `the bomb should be small compressed (${zip.length})`);
    const r = byName(await walk(zip));
    assert.equal(r['bomb.json'].errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
    assert.match(r['bomb.json'].errorMessage!, /per-file limit is 2 MiB/);
    assert.equal(r['ok.json'].result, 'SUCCEEDED');
  });

  it('stops reading an entry whose header lies about its size at the limit', async () => {
    const zip = buildZip([{ name: 'liar.json', data: bomb(40 * MiB), method: 'deflate', declaredSize: 1000 }, { name: 'ok.json', data: json(minimalCycloneDx()) }]);
    const r = byName(await walk(zip));
    assert.equal(r['liar.json'].errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
    assert.match(r['liar.json'].errorMessage!, /Reading stopped/);
    assert.equal(r['ok.json'].result, 'SUCCEEDED');
  });

  it('rejects an extreme compression ratio even under the per-file limit', async () => {
    const limits = { ...LIMITS, maxFileBytes: 64 * MiB, maxTotalUncompressedBytes: 64 * MiB, maxCompressionRatio: 50 };
    const [r] = await walk(buildZip([{ name: 'dense.json', data: bomb(8 * MiB), method: 'deflate' }]), 'x.zip', limits);
    assert.equal(r.errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
    assert.match(r.errorMessage!, /compression ratio exceeds 50:1/);
  });

  it('stops once the files together exceed the total uncompressed limit', async () => {
    const part = json({ ...minimalCycloneDx(), properties: [{ name: 'pad', value: 'x'.repeat(1.5 * MiB) }] });
    const zip = buildZip([1, 2, 3, 4].map((i) => ({ name: `part${i}.json`, data: part, method: 'deflate' as const })));
    const results = await walk(zip, 'x.zip', { ...LIMITS, maxCompressionRatio: 1000 });
    assert.deepEqual(results.map((r) => r.result), ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED']);
    assert.equal(results[3].errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
    assert.match(results[3].errorMessage!, /together exceed the limit of 5 MiB/);
  });

  it('refuses an archive with more entries than allowed', async () => {
    const entries: ZipEntrySpec[] = Array.from({ length: 51 }, (_, i) => ({ name: `d${i}/` }));
    const results = await walk(buildZip(entries), 'many.zip');
    assert.deepEqual(results.map((r) => [r.fileName, r.errorCode]), [['many.zip', 'FILE_SIZE_LIMIT_EXCEEDED']]);
    assert.match(results[0].errorMessage!, /lists 51 entries; at most 50/);
  });

  it('reports encrypted entries and unsupported compression methods per file', async () => {
    const r = byName(await walk(buildZip([
      { name: 'secret.json', data: json(minimalSpdx()), encrypted: true },
      { name: 'bzip2.json', data: json(minimalSpdx()), rawMethod: 12 },
      { name: 'ok.json', data: json(minimalSpdx()) },
    ])));
    assert.match(r['secret.json'].errorMessage!, /encrypted/);
    assert.match(r['bzip2.json'].errorMessage!, /compression method 12/);
    assert.equal(r['ok.json'].result, 'SUCCEEDED');
  });

  it('fails an empty archive, one with only directories, and a corrupt one at the archive level', async () => {
    const empty = await walk(buildZip([]), 'empty.zip');
    assert.deepEqual(empty.map((r) => [r.fileName, r.errorCode]), [['empty.zip', 'INCOMPATIBLE_FORMAT']]);
    assert.match(empty[0].errorMessage!, /contains no SBOM files/);
    const dirs = await walk(buildZip([{ name: 'a/' }, { name: '__MACOSX/._a', data: 'x' }]), 'dirs.zip');
    assert.match(dirs[0].errorMessage!, /contains no SBOM files/);
    const corrupt = await walk(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]), 'corrupt.zip');
    assert.deepEqual(corrupt.map((r) => [r.fileName, r.errorCode]), [['corrupt.zip', 'INCOMPATIBLE_FORMAT']]);
    assert.match(corrupt[0].errorMessage!, /cannot be read as one/);
  });

  it('reads a zip made by Info-ZIP `zip` (when installed), directories and __MACOSX included', async (t) => {
    const work = await mkdtemp(join(tmpdir(), 'fleetjobs-zip-'));
    try {
      await mkdir(join(work, 'in', 'sboms', 'nested'), { recursive: true });
      await mkdir(join(work, 'in', '__MACOSX'), { recursive: true });
      await writeFile(join(work, 'in', 'sboms', 'a.spdx.json'), await npmSbom('spdx'));
      await writeFile(join(work, 'in', 'sboms', 'nested', 'b.cdx.json'), await npmSbom('cyclonedx'));
      await writeFile(join(work, 'in', '__MACOSX', '._a.spdx.json'), 'junk');
      try {
        await promisify(execFile)('zip', ['-r', '-q', join(work, 'out.zip'), 'sboms', '__MACOSX'], { cwd: join(work, 'in') });
      } catch (err) {
        t.skip(`the zip command is not available (${(err as Error).message.split('\n')[0]})`);
        return;
      }
      const results = await walk(await readFile(join(work, 'out.zip')), 'out.zip', LIMITS, { chunk: 1000 });
      assert.deepEqual(results.map((r) => [r.fileName, r.result]).sort(), [['sboms/a.spdx.json', 'SUCCEEDED'], ['sboms/nested/b.cdx.json', 'SUCCEEDED']]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
