import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { fileSizeLimitExceeded, formatBytes, incompatibleFormat, type SbomFileResult } from '../domain/sbom/results.js';

/**
 * Turns one SBOM object into the files to validate (packages.md §9.8 step 3): a zip archive
 * (magic `PK\x03\x04`, or `PK\x05\x06` when empty) is spooled to a temp file — never held in
 * memory — and walked with yauzl, skipping directories and `__MACOSX/`; anything else is one file
 * named after the key's basename. Each file is handed over in memory only when it fits the
 * per-file limit; otherwise it becomes a FILE_SIZE_LIMIT_EXCEEDED result without being read whole.
 *
 * Zip bombs are bounded four ways: the entry count, the per-file and the total uncompressed
 * bytes, and the compression ratio. The declared sizes are checked first, and the bytes actually
 * inflated are counted too, so an entry whose header lies is cut off at the same limits.
 */
export interface SbomReadLimits {
  /** Largest object (zip or single file) read at all. */
  maxArchiveBytes: number;
  /** Largest single SBOM file, uncompressed, validated in memory. */
  maxFileBytes: number;
  /** Most entries (of any kind) a zip may list. */
  maxEntries: number;
  /** Most uncompressed bytes read out of one zip, all entries together. */
  maxTotalUncompressedBytes: number;
  /** Highest uncompressed/compressed ratio accepted for entries larger than RATIO_CHECK_FLOOR_BYTES. */
  maxCompressionRatio: number;
}

/** Small entries may compress extremely well (a file of spaces); the ratio guard starts above this. */
export const RATIO_CHECK_FLOOR_BYTES = 1024 * 1024;

/** A file to validate, or a verdict reached without validating (too large, unreadable). */
export type SbomFileItem = { fileName: string; bytes: Buffer } | { fileName: string; result: SbomFileResult };

const ZIP_LOCAL_HEADER = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const ZIP_EMPTY_ARCHIVE = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

function isZipMagic(head: Buffer): boolean {
  const magic = head.subarray(0, 4);
  return magic.equals(ZIP_LOCAL_HEADER) || magic.equals(ZIP_EMPTY_ARCHIVE);
}

/** The file name a bare object's result carries: the key's last segment. */
export function objectFileName(key: string): string {
  return basename(key) || key;
}

function tooLarge(fileName: string, message: string): SbomFileItem {
  return { fileName, result: fileSizeLimitExceeded(fileName, message) };
}

function unreadable(fileName: string, message: string): SbomFileItem {
  return { fileName, result: incompatibleFormat(fileName, message) };
}

/**
 * Reads chunks (after `prefix`) until the source ends; `undefined` as soon as more than `cap`
 * bytes arrived, having read at most one chunk past the cap.
 */
async function collect(prefix: Buffer[], source: AsyncIterable<Buffer> | AsyncIterator<Buffer>, cap: number, signal?: AbortSignal): Promise<Buffer | undefined> {
  const chunks = [...prefix];
  let size = prefix.reduce((n, c) => n + c.length, 0);
  if (size > cap) return undefined;
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source;
  for (;;) {
    signal?.throwIfAborted();
    const next = await iterator.next();
    if (next.done) break;
    size += next.value.length;
    if (size > cap) {
      await iterator.return?.();
      return undefined;
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks, size);
}

/** Writes the object to `path`; false (and stops reading) once it passes `cap` bytes. */
async function spool(prefix: Buffer, rest: AsyncIterator<Buffer>, path: string, cap: number, signal?: AbortSignal): Promise<boolean> {
  const file = await open(path, 'w');
  try {
    let size = prefix.length;
    await file.write(prefix);
    for (;;) {
      signal?.throwIfAborted();
      const next = await rest.next();
      if (next.done) return size <= cap;
      size += next.value.length;
      if (size > cap) return false;
      await file.write(next.value);
    }
  } finally {
    await file.close();
  }
}

export interface SbomObject {
  key: string;
  /** Size the object store reports (checked before reading; the bytes read are counted as well). */
  size: number;
  body: Readable;
}

/** The files of one SBOM object, one at a time. Temp files are removed when iteration ends. */
export async function* sbomFilesOf(object: SbomObject, limits: SbomReadLimits, tempDir: string, signal?: AbortSignal): AsyncGenerator<SbomFileItem> {
  const name = objectFileName(object.key);
  const rest = object.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // A read waiting on a slow or stalled object must end when the validation is abandoned.
  const stop = () => object.body.destroy(signal?.reason instanceof Error ? signal.reason : new Error('SBOM validation abandoned'));
  signal?.addEventListener('abort', stop, { once: true });
  try {
    signal?.throwIfAborted();
    if (object.size > limits.maxArchiveBytes) {
      yield tooLarge(name, `S3 object file size exceeds limit: the object is ${formatBytes(object.size)}, the limit is ${formatBytes(limits.maxArchiveBytes)}.`);
      return;
    }
    const head: Buffer[] = [];
    let headBytes = 0;
    while (headBytes < 4) {
      const next = await rest.next();
      if (next.done) break;
      head.push(next.value);
      headBytes += next.value.length;
    }
    const first = Buffer.concat(head);
    if (isZipMagic(first)) {
      const path = join(tempDir, `${randomUUID()}.zip`);
      try {
        if (!(await spool(first, rest, path, limits.maxArchiveBytes, signal))) {
          yield tooLarge(name, `S3 object file size exceeds limit: the archive is larger than ${formatBytes(limits.maxArchiveBytes)}.`);
          return;
        }
        yield* zipEntries(path, name, limits, signal);
      } finally {
        await rm(path, { force: true });
      }
      return;
    }
    const perFile = `the per-file limit is ${formatBytes(limits.maxFileBytes)}`;
    if (object.size > limits.maxFileBytes) {
      yield tooLarge(name, `The file is ${formatBytes(object.size)}; ${perFile}.`);
      return;
    }
    const bytes = await collect([first], rest, limits.maxFileBytes, signal);
    yield bytes ? { fileName: name, bytes } : tooLarge(name, `The file is larger than ${formatBytes(limits.maxFileBytes)}; ${perFile}.`);
  } finally {
    signal?.removeEventListener('abort', stop);
    object.body.destroy();
  }
}

/** `__MACOSX/…` holds Finder metadata (AppleDouble files), never SBOMs. */
function isMacOsMetadata(fileName: string): boolean {
  return fileName.split('/').includes('__MACOSX');
}

function openZip(path: string): Promise<ZipFile> {
  // Our own size accounting replaces validateEntrySizes, so a lying header is cut off at our
  // limits rather than at whatever it declares; names are only labels (nothing is extracted).
  return yauzl.openPromise(path, { autoClose: false, lazyEntries: true, decodeStrings: true, validateEntrySizes: false, strictFileNames: false });
}

/** The entries of a zip on disk, with the bomb guards of SbomReadLimits. */
export async function* zipEntries(path: string, archiveName: string, limits: SbomReadLimits, signal?: AbortSignal): AsyncGenerator<SbomFileItem> {
  let zip: ZipFile;
  try {
    zip = await openZip(path);
  } catch (err) {
    yield unreadable(archiveName, `The object starts like a zip archive but cannot be read as one: ${(err as Error).message}.`);
    return;
  }
  // eachEntry() detaches its listeners when done; a late error must not become an uncaught one.
  zip.on('error', () => undefined);
  try {
    if (zip.entryCount > limits.maxEntries) {
      yield tooLarge(archiveName, `The zip archive lists ${zip.entryCount} entries; at most ${limits.maxEntries} are accepted.`);
      return;
    }
    let total = 0;
    let files = 0;
    let exhausted = false;
    const entries = zip.eachEntry();
    for (;;) {
      let entry: Entry;
      try {
        const next = await entries.next();
        if (next.done) break;
        entry = next.value;
      } catch (err) {
        yield unreadable(archiveName, `The zip archive is corrupt: ${(err as Error).message}.`);
        return;
      }
      signal?.throwIfAborted();
      const fileName = entry.fileName;
      if (fileName.endsWith('/') || isMacOsMetadata(fileName)) continue;
      files++;
      const declared = entry.uncompressedSize;
      if (exhausted) {
        yield tooLarge(fileName, `Not read: the archive's files together exceed the limit of ${formatBytes(limits.maxTotalUncompressedBytes)} uncompressed.`);
        continue;
      }
      if (entry.isEncrypted()) {
        yield unreadable(fileName, 'The zip entry is encrypted; SBOM files must be stored without encryption.');
        continue;
      }
      if (!entry.canDecodeFileData()) {
        yield unreadable(fileName, `The zip entry uses compression method ${entry.compressionMethod}; only stored (0) and deflated (8) entries can be read.`);
        continue;
      }
      if (declared > limits.maxFileBytes) {
        yield tooLarge(fileName, `The file is ${formatBytes(declared)} uncompressed; the per-file limit is ${formatBytes(limits.maxFileBytes)}.`);
        continue;
      }
      if (total + declared > limits.maxTotalUncompressedBytes) {
        exhausted = true;
        yield tooLarge(fileName, `Not read: with this file the archive's files together exceed the limit of ${formatBytes(limits.maxTotalUncompressedBytes)} uncompressed.`);
        continue;
      }
      const ratioCap = Math.max(RATIO_CHECK_FLOOR_BYTES, entry.compressedSize * limits.maxCompressionRatio);
      if (declared > ratioCap) {
        yield tooLarge(fileName, `The file's compression ratio exceeds ${limits.maxCompressionRatio}:1 (${declared} bytes from ${entry.compressedSize}); it is treated as a zip bomb.`);
        continue;
      }
      // What may actually be inflated: headers can lie, so the same limits apply to real bytes.
      const cap = Math.min(limits.maxFileBytes, limits.maxTotalUncompressedBytes - total, ratioCap);
      let bytes: Buffer | undefined;
      try {
        const stream = await zip.openReadStreamPromise(entry);
        try {
          bytes = await collect([], stream as AsyncIterable<Buffer>, cap, signal);
        } finally {
          stream.destroy();
        }
      } catch (err) {
        if (signal?.aborted) throw err;
        yield unreadable(fileName, `The zip entry cannot be decompressed: ${(err as Error).message}.`);
        continue;
      }
      if (!bytes) {
        const which = cap === limits.maxFileBytes ? `the per-file limit of ${formatBytes(limits.maxFileBytes)}`
          : cap === ratioCap ? `the compression ratio limit of ${limits.maxCompressionRatio}:1`
            : `the archive's total limit of ${formatBytes(limits.maxTotalUncompressedBytes)}`;
        if (cap !== limits.maxFileBytes && cap !== ratioCap) exhausted = true;
        yield tooLarge(fileName, `Reading stopped: the file inflates past ${which} (its header declares ${declared} bytes).`);
        continue;
      }
      total += bytes.length;
      yield { fileName, bytes };
    }
    if (files === 0) yield unreadable(archiveName, 'The zip archive contains no SBOM files (only directories or __MACOSX metadata, or nothing at all).');
  } finally {
    zip.close();
  }
}
