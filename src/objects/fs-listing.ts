import type { ObjectMetadataStore, S3ObjectVersionRow } from '../store/objects.js';
import { toStoredObject, type StoredObject } from './stored-object.js';

/**
 * ListObjects(V2) and ListObjectVersions over the metadata rows, with S3's rules: keys in UTF-8
 * byte order, `prefix` narrows, `delimiter` rolls keys up into common prefixes, and objects and
 * common prefixes together count against max-keys. Rows are read in batches from a keyset cursor;
 * keys under an already reported common prefix are skipped by jumping the cursor past them.
 */

export interface ListObjectsInput {
  prefix: string;
  delimiter?: string;
  /** Exclusive start (StartAfter, Marker or a continuation token). */
  after?: string;
  /** Keys starting with this were already reported as a common prefix. */
  skipPrefix?: string;
  maxKeys: number;
}

export interface ListObjectsPage {
  objects: StoredObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Where the next page starts, when truncated. */
  next?: { after: string; skipPrefix?: string };
  /** The last key or common prefix returned (ListObjects V1's NextMarker). */
  lastEntry?: string;
}

export interface ListVersionsInput {
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  /** seq of the version-id-marker's version, resolved by the caller. */
  afterSeq?: number;
  skipPrefix?: string;
  maxKeys: number;
}

export interface ListVersionsPage {
  versions: StoredObject[];
  commonPrefixes: string[];
  truncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

/** The greatest code point: a cursor `p + MAX_CHAR` sorts after nearly every key starting with p. */
const MAX_CHAR = '\u{10FFFF}';
const BATCH = 500;

function bytesGreater(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) > 0;
}

function rollUp(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

export async function listLatestObjects(store: ObjectMetadataStore, bucket: string, input: ListObjectsInput): Promise<ListObjectsPage> {
  const { prefix, delimiter, maxKeys } = input;
  const page: ListObjectsPage = { objects: [], commonPrefixes: [], truncated: false };
  if (maxKeys <= 0) return page;
  let cursor = input.after !== undefined ? { key: input.after, inclusive: false } : { key: '', inclusive: true };
  if (bytesGreater(prefix, cursor.key)) cursor = { key: prefix, inclusive: true };
  let skip = input.skipPrefix;
  let lastKey: string | undefined;
  let count = 0;

  scan: for (;;) {
    const rows = await store.listLatest(bucket, cursor, BATCH);
    for (const row of rows) {
      const key = row.object_key;
      if (!key.startsWith(prefix)) break scan;
      if (skip !== undefined && key.startsWith(skip)) {
        lastKey = key;
        continue;
      }
      const cp = rollUp(key, prefix, delimiter);
      if (count === maxKeys) {
        page.truncated = true;
        break scan;
      }
      count++;
      lastKey = key;
      if (cp !== undefined) {
        page.commonPrefixes.push(cp);
        page.lastEntry = cp;
        skip = cp;
      } else {
        page.objects.push(toStoredObject(row));
        page.lastEntry = key;
      }
    }
    if (rows.length < BATCH) break;
    cursor = nextCursor(rows[rows.length - 1].object_key, skip);
  }
  if (page.truncated && lastKey !== undefined) {
    page.next = { after: lastKey, ...(skip !== undefined && lastKey.startsWith(skip) ? { skipPrefix: skip } : {}) };
  }
  return page;
}

function nextCursor(lastRowKey: string, skip: string | undefined): { key: string; inclusive: boolean } {
  if (skip !== undefined && lastRowKey.startsWith(skip)) {
    const jump = skip + MAX_CHAR;
    return { key: bytesGreater(jump, lastRowKey) ? jump : lastRowKey, inclusive: false };
  }
  return { key: lastRowKey, inclusive: false };
}

export async function listObjectVersions(store: ObjectMetadataStore, bucket: string, input: ListVersionsInput): Promise<ListVersionsPage> {
  const { prefix, delimiter, maxKeys } = input;
  const page: ListVersionsPage = { versions: [], commonPrefixes: [], truncated: false };
  if (maxKeys <= 0) return page;
  let cursor: { key: string; inclusive: boolean; beforeSeq?: number } =
    input.keyMarker === undefined ? { key: '', inclusive: true }
      : input.afterSeq !== undefined ? { key: input.keyMarker, inclusive: false, beforeSeq: input.afterSeq }
        : { key: input.keyMarker, inclusive: false };
  if (bytesGreater(prefix, cursor.key)) cursor = { key: prefix, inclusive: true };
  let skip = input.skipPrefix;
  let last: { key: string; versionId?: string } | undefined;
  let count = 0;

  scan: for (;;) {
    const rows: S3ObjectVersionRow[] = await store.listVersions(bucket, cursor, BATCH);
    for (const row of rows) {
      const key = row.object_key;
      if (!key.startsWith(prefix)) break scan;
      if (skip !== undefined && key.startsWith(skip)) continue;
      const cp = rollUp(key, prefix, delimiter);
      if (count === maxKeys) {
        page.truncated = true;
        break scan;
      }
      count++;
      if (cp !== undefined) {
        page.commonPrefixes.push(cp);
        skip = cp;
        last = { key: cp };
      } else {
        page.versions.push(toStoredObject(row));
        last = { key, versionId: row.version_id };
      }
    }
    if (rows.length < BATCH) break;
    const lastRow = rows[rows.length - 1];
    cursor = skip !== undefined && lastRow.object_key.startsWith(skip)
      ? nextCursor(lastRow.object_key, skip)
      : { key: lastRow.object_key, inclusive: false, beforeSeq: Number(lastRow.seq) };
  }
  if (page.truncated && last) {
    page.nextKeyMarker = last.key;
    if (last.versionId !== undefined) page.nextVersionIdMarker = last.versionId;
  }
  return page;
}
