import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Clock } from '../clock.js';
import type { S3ObjectVersionRow } from '../store/objects.js';
import type { Store } from '../store/store.js';
import { noSuchBucket, noSuchKey, noSuchVersion, ObjectStoreError } from './errors.js';
import { ObjectFiles, type WrittenFile } from './fs-files.js';
import { listObjectVersions, listLatestObjects, type ListObjectsInput, type ListObjectsPage, type ListVersionsInput, type ListVersionsPage } from './fs-listing.js';
import { KeyLock } from './key-lock.js';
import type { ObjectLookup, ObjectStore } from './object-store.js';
import { isValidBucketName, newVersionId, toHead, toStoredObject, type BucketInfo, type ObjectAttributes, type StoredObject } from './stored-object.js';

/** S3's largest single PUT. */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export interface Presigner {
  presignGet(bucket: string, key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string>;
  presignPut(bucket: string, key: string, expiresInSeconds: number): Promise<string>;
}

export interface FsObjectStoreOptions {
  dataDir: string;
  store: Store;
  /** Timestamps of buckets and object versions. */
  clock: Clock;
  presigner: Presigner;
}

/**
 * The embedded object store: bytes in files under `<dataDir>/objects/`, buckets and object
 * versions in the database. Implements S3's semantics for the subset the S3 door serves
 * (versioning, delete markers, 'null' versions) and the ObjectStore port the catalog and jobs use.
 */
export class FsObjectStore implements ObjectStore {
  readonly files: ObjectFiles;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly presigner: Presigner;
  private readonly locks = new KeyLock();
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(options: FsObjectStoreOptions) {
    this.files = new ObjectFiles(join(options.dataDir, 'objects'));
    this.store = options.store;
    this.clock = options.clock;
    this.presigner = options.presigner;
  }

  /** Opens the store, removing what a crash may have left behind (temp and unreferenced files). */
  static async open(options: FsObjectStoreOptions): Promise<FsObjectStore> {
    const s = new FsObjectStore(options);
    await s.files.recover(
      async (bucket) => (await s.store.objects.getBucket(bucket)) !== undefined,
      (files) => s.store.objects.referencedFiles(files),
    );
    return s;
  }

  /** Waits for uploads in flight, then records a clean shutdown. */
  async close(): Promise<void> {
    const pending = [...this.inflight];
    await Promise.allSettled(pending);
    if (this.inflight.size === 0) await this.files.markClean();
  }

  /**
   * Test mode's reset, after the database's rows are gone: every file. Uploads in flight finish
   * first; the reset waits for them rather than cutting a file in half.
   */
  async removeAllFiles(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await this.files.removeAll();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  // ---- buckets ----

  /** 'exists' when the bucket was already there (the caller decides how its region answers that). */
  async createBucket(name: string): Promise<'created' | 'exists'> {
    if (!isValidBucketName(name)) throw new ObjectStoreError('InvalidBucketName', 'The specified bucket is not valid.', { elements: { BucketName: name } });
    return this.locks.run(`bucket\n${name}`, async () => {
      if (await this.store.objects.getBucket(name)) return 'exists';
      await this.store.objects.insertBucket({ bucket_name: name, versioning: '', created_at: this.clock.now() });
      return 'created';
    });
  }

  async getBucket(name: string): Promise<BucketInfo | undefined> {
    const row = await this.store.objects.getBucket(name);
    return row ? { name: row.bucket_name, createdAt: new Date(Number(row.created_at)), versioning: row.versioning as BucketInfo['versioning'] } : undefined;
  }

  async requireBucket(name: string): Promise<BucketInfo> {
    const b = await this.getBucket(name);
    if (!b) throw noSuchBucket(name);
    return b;
  }

  async listBuckets(): Promise<BucketInfo[]> {
    return (await this.store.objects.listBuckets()).map((row) => ({
      name: row.bucket_name,
      createdAt: new Date(Number(row.created_at)),
      versioning: row.versioning as BucketInfo['versioning'],
    }));
  }

  async deleteBucket(name: string): Promise<void> {
    await this.locks.run(`bucket\n${name}`, () =>
      this.store.transaction(async (tx) => {
        if (!(await tx.objects.getBucket(name))) throw noSuchBucket(name);
        if (await tx.objects.bucketHasContent(name)) {
          throw new ObjectStoreError('BucketNotEmpty', 'The bucket you tried to delete is not empty', { elements: { BucketName: name } });
        }
        await tx.objects.deleteBucket(name);
      }),
    );
    await this.files.removeBucket(name);
  }

  async setVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<void> {
    await this.requireBucket(name);
    await this.store.objects.setVersioning(name, status);
  }

  // ---- objects ----

  /**
   * Stores an object from a stream (never held in memory whole). `check` runs once the bytes are
   * on disk and before they become visible: throwing from it (a digest mismatch) discards them.
   */
  async putObject(
    bucket: string,
    key: string,
    body: AsyncIterable<Buffer | string>,
    attributes: ObjectAttributes,
    check?: (written: { size: number; md5: Buffer }) => void | Promise<void>,
  ): Promise<StoredObject> {
    checkKey(key);
    await this.requireBucket(bucket);
    return this.track(
      (async () => {
        const written = await this.files.write(bucket, body, MAX_PUT_BYTES, check);
        return this.commitNewVersion(bucket, key, written, `"${written.md5.toString('hex')}"`, attributes);
      })(),
    );
  }

  /**
   * Makes a written file the latest version of `key`: a new version id when versioning is
   * Enabled, else it replaces the 'null' version. Used by PutObject and CompleteMultipartUpload.
   * `extra` runs in the same transaction (e.g. dropping the multipart upload's rows).
   */
  async commitNewVersion(
    bucket: string,
    key: string,
    written: WrittenFile,
    etag: string,
    attributes: ObjectAttributes,
    extra?: (tx: Store) => Promise<void>,
  ): Promise<StoredObject> {
    let replacedFile: string | null = null;
    let row!: S3ObjectVersionRow;
    let versioned = false;
    try {
      await this.locks.run(`${bucket}\n${key}`, () =>
        this.store.transaction(async (tx) => {
          const b = await tx.objects.getBucket(bucket);
          if (!b) throw noSuchBucket(bucket);
          versioned = b.versioning !== '';
          const versionId = b.versioning === 'Enabled' ? newVersionId() : 'null';
          if (versionId === 'null') {
            const old = await tx.objects.getVersion(bucket, key, 'null');
            if (old) {
              replacedFile = old.file;
              await tx.objects.deleteVersion(bucket, key, 'null');
            }
          }
          await tx.objects.clearLatest(bucket, key);
          row = {
            bucket_name: bucket,
            object_key: key,
            version_id: versionId,
            seq: (await tx.objects.maxSeq(bucket, key)) + 1,
            is_latest: 1,
            is_delete_marker: 0,
            size: written.size,
            etag,
            content_type: attributes.contentType ?? null,
            metadata: JSON.stringify(attributes.metadata),
            headers: JSON.stringify(attributes.headers),
            checksum: attributes.checksum ?? null,
            file: written.file,
            created_at: this.clock.now(),
          };
          await tx.objects.insertVersion(row);
          await extra?.(tx);
        }),
      );
    } catch (err) {
      await this.files.remove(bucket, written.file);
      throw err;
    }
    await this.files.remove(bucket, replacedFile);
    return { ...toStoredObject(row), versioned };
  }

  /** The latest version, or the given one. Delete markers are reported as S3 does. */
  async getObject(bucket: string, key: string, versionId?: string): Promise<StoredObject> {
    const versioned = (await this.requireBucket(bucket)).versioning !== '';
    if (versionId !== undefined) {
      const row = await this.store.objects.getVersion(bucket, key, versionId);
      if (!row) throw noSuchVersion(key, versionId);
      const o = { ...toStoredObject(row), versioned };
      if (o.deleteMarker) {
        throw new ObjectStoreError('MethodNotAllowed', 'The specified method is not allowed against this resource.', {
          elements: { Method: 'GET', ResourceType: 'DeleteMarker' },
          headers: { 'x-amz-delete-marker': 'true', 'x-amz-version-id': o.versionId, 'last-modified': o.lastModified.toUTCString(), allow: 'DELETE' },
        });
      }
      return o;
    }
    const row = await this.store.objects.getLatest(bucket, key);
    if (!row) throw noSuchKey(key);
    const o = { ...toStoredObject(row), versioned };
    if (o.deleteMarker) throw noSuchKey(key, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': o.versionId });
    return o;
  }

  /**
   * Opens an object's bytes (optionally an inclusive byte range). If the version was replaced
   * between lookup and open, looks it up once more.
   */
  async openObject(bucket: string, key: string, versionId: string | undefined, range?: (o: StoredObject) => { start: number; end: number } | undefined): Promise<{ object: StoredObject; body: Readable; range?: { start: number; end: number } }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const object = await this.getObject(bucket, key, versionId);
      const r = range?.(object);
      if (object.size === 0 || (r && r.end < r.start)) {
        return { object, body: Readable.from([]), range: r };
      }
      const body = await this.files.openRead(bucket, object.file!, r);
      if (body) return { object, body, range: r };
    }
    throw noSuchKey(key);
  }

  /** DeleteObject: a delete marker on versioned buckets, or removes the given/'null' version. */
  async deleteObject(bucket: string, key: string, versionId?: string): Promise<{ versionId?: string; deleteMarker: boolean }> {
    checkKey(key);
    let removedFile: string | null = null;
    const result = await this.locks.run(`${bucket}\n${key}`, () =>
      this.store.transaction(async (tx) => {
        const b = await tx.objects.getBucket(bucket);
        if (!b) throw noSuchBucket(bucket);
        if (versionId !== undefined) {
          const row = await tx.objects.getVersion(bucket, key, versionId);
          if (!row) return { versionId, deleteMarker: false };
          removedFile = row.file;
          await tx.objects.deleteVersion(bucket, key, versionId);
          if (row.is_latest === 1) await tx.objects.promoteNewest(bucket, key);
          return { versionId, deleteMarker: row.is_delete_marker === 1 };
        }
        if (b.versioning === '') {
          // Never versioned: the object simply goes (its version is the 'null' one).
          const row = await tx.objects.getVersion(bucket, key, 'null');
          if (row) {
            removedFile = row.file;
            await tx.objects.deleteVersion(bucket, key, 'null');
          }
          return { deleteMarker: false };
        }
        const markerId = b.versioning === 'Enabled' ? newVersionId() : 'null';
        if (markerId === 'null') {
          const row = await tx.objects.getVersion(bucket, key, 'null');
          if (row) {
            removedFile = row.file;
            await tx.objects.deleteVersion(bucket, key, 'null');
          }
        }
        await tx.objects.clearLatest(bucket, key);
        await tx.objects.insertVersion({
          bucket_name: bucket,
          object_key: key,
          version_id: markerId,
          seq: (await tx.objects.maxSeq(bucket, key)) + 1,
          is_latest: 1,
          is_delete_marker: 1,
          size: 0,
          etag: '',
          content_type: null,
          metadata: '{}',
          headers: '{}',
          checksum: null,
          file: null,
          created_at: this.clock.now(),
        });
        return { versionId: markerId, deleteMarker: true };
      }),
    );
    await this.files.remove(bucket, removedFile);
    return result;
  }

  async listObjects(bucket: string, input: ListObjectsInput): Promise<ListObjectsPage> {
    await this.requireBucket(bucket);
    return listLatestObjects(this.store.objects, bucket, input);
  }

  /** `versionIdMarker` continues after that version of `keyMarker`. */
  async listVersions(bucket: string, input: Omit<ListVersionsInput, 'afterSeq'> & { versionIdMarker?: string }): Promise<ListVersionsPage> {
    await this.requireBucket(bucket);
    const { versionIdMarker, ...rest } = input;
    let afterSeq: number | undefined;
    if (versionIdMarker !== undefined) {
      const at = input.keyMarker !== undefined ? await this.store.objects.getVersion(bucket, input.keyMarker, versionIdMarker) : undefined;
      if (!at) throw new ObjectStoreError('InvalidArgument', 'Invalid version id specified', { elements: { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker } });
      afterSeq = Number(at.seq);
    }
    return listObjectVersions(this.store.objects, bucket, { ...rest, afterSeq });
  }

  /** Streams a new file for a multipart part or a completed object. */
  writeFile(bucket: string, body: AsyncIterable<Buffer | string>, maxBytes: number, check?: (w: { size: number; md5: Buffer }) => void | Promise<void>): Promise<WrittenFile> {
    return this.track(this.files.write(bucket, body, maxBytes, check));
  }

  // ---- the ObjectStore port (catalog and jobs) ----

  async head(bucket: string, key: string, versionId?: string): Promise<ObjectLookup> {
    // A NUL cannot be in any stored name (and PostgreSQL could not even compare it): nothing is there.
    if (hasNul(bucket)) return { found: false, missing: 'bucket' };
    if (hasNul(key) || (versionId !== undefined && hasNul(versionId))) return { found: false, missing: versionId !== undefined ? 'version' : 'key' };
    if (!(await this.store.objects.getBucket(bucket))) return { found: false, missing: 'bucket' };
    const row = versionId !== undefined ? await this.store.objects.getVersion(bucket, key, versionId) : await this.store.objects.getLatest(bucket, key);
    if (!row || row.is_delete_marker === 1) return { found: false, missing: versionId !== undefined ? 'version' : 'key' };
    return { found: true, head: toHead(toStoredObject(row)) };
  }

  async open(bucket: string, key: string, versionId?: string) {
    if (hasNul(bucket) || hasNul(key) || (versionId !== undefined && hasNul(versionId))) throw noSuchKey(key.replace(/\u0000/g, ''));
    const { object, body } = await this.openObject(bucket, key, versionId);
    return { head: toHead(object), body };
  }

  presignGet(bucket: string, key: string, versionId: string | undefined, expiresInSeconds: number): Promise<string> {
    return this.presigner.presignGet(bucket, key, versionId, expiresInSeconds);
  }

  presignPut(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    return this.presigner.presignPut(bucket, key, expiresInSeconds);
  }
}

const hasNul = (s: string) => s.includes('\u0000');

/** S3's key rules, shared by single-part and multipart uploads. */
export function checkKey(key: string): void {
  if (key.length === 0) throw new ObjectStoreError('InvalidArgument', 'Object key must not be empty.');
  if (hasNul(key)) throw new ObjectStoreError('InvalidArgument', 'Object key must not contain the NUL character.');
  if (Buffer.byteLength(key) > 1024) throw new ObjectStoreError('KeyTooLongError', 'Your key is too long');
}
