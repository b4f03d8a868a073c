import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { ObjectStoreError } from './errors.js';
import { checkKey, type FsObjectStore } from './fs-object-store.js';
import type { ObjectAttributes, StoredObject } from './stored-object.js';

const MAX_PART_BYTES = 5 * 1024 ** 3;
const MIN_PART_BYTES = 5 * 1024 ** 2;
const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

const noSuchUpload = (uploadId: string) =>
  new ObjectStoreError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', {
    elements: { UploadId: uploadId },
  });

const unquote = (etag: string) => etag.trim().replace(/^"|"$/g, '');

/**
 * S3 multipart uploads (what `aws s3 cp` uses for files of 8 MB and more): parts are files of
 * their own; completing concatenates the listed parts into one new object file and commits it
 * like a PutObject, dropping the upload in the same transaction.
 */
export class FsMultipartUploads {
  constructor(
    private readonly objects: FsObjectStore,
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(bucket: string, key: string, attributes: ObjectAttributes): Promise<string> {
    await this.objects.requireBucket(bucket);
    checkKey(key);
    const uploadId = randomBytes(24).toString('base64url');
    await this.store.objects.insertUpload({
      upload_id: uploadId,
      bucket_name: bucket,
      object_key: key,
      content_type: attributes.contentType ?? null,
      metadata: JSON.stringify(attributes.metadata),
      headers: JSON.stringify(attributes.headers),
      created_at: this.clock.now(),
    });
    return uploadId;
  }

  private async requireUpload(bucket: string, key: string, uploadId: string) {
    const upload = await this.store.objects.getUpload(uploadId);
    if (!upload || upload.bucket_name !== bucket || upload.object_key !== key) throw noSuchUpload(uploadId);
    return upload;
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Buffer | string>,
    check?: (w: { size: number; md5: Buffer }) => void | Promise<void>,
  ): Promise<{ etag: string }> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new ObjectStoreError('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { elements: { ArgumentName: 'partNumber', ArgumentValue: String(partNumber) } });
    }
    await this.objects.requireBucket(bucket);
    await this.requireUpload(bucket, key, uploadId);
    const written = await this.objects.writeFile(bucket, body, MAX_PART_BYTES, check);
    const etag = `"${written.md5.toString('hex')}"`;
    let replaced: string | undefined;
    try {
      await this.store.transaction(async (tx) => {
        if (!(await tx.objects.getUpload(uploadId))) throw noSuchUpload(uploadId);
        replaced = (await tx.objects.getPart(uploadId, partNumber))?.file;
        await tx.objects.putPart({ upload_id: uploadId, part_number: partNumber, size: written.size, etag, file: written.file, created_at: this.clock.now() });
      });
    } catch (err) {
      await this.objects.files.remove(bucket, written.file);
      throw err;
    }
    await this.objects.files.remove(bucket, replaced);
    return { etag };
  }

  async complete(bucket: string, key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<StoredObject> {
    await this.objects.requireBucket(bucket);
    const upload = await this.requireUpload(bucket, key, uploadId);
    if (parts.length === 0) {
      throw new ObjectStoreError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    for (let i = 1; i < parts.length; i++) {
      if (parts[i].partNumber <= parts[i - 1].partNumber) {
        throw new ObjectStoreError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', { elements: { UploadId: uploadId } });
      }
    }
    const stored = new Map((await this.store.objects.listParts(uploadId)).map((p) => [p.part_number, p]));
    const chosen = parts.map((p, i) => {
      const s = stored.get(p.partNumber);
      if (!s || unquote(s.etag) !== unquote(p.etag)) {
        throw new ObjectStoreError('InvalidPart', "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", {
          elements: { UploadId: uploadId, PartNumber: String(p.partNumber), ETag: p.etag },
        });
      }
      if (i < parts.length - 1 && Number(s.size) < MIN_PART_BYTES) {
        throw new ObjectStoreError('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
          elements: { ProposedSize: String(s.size), MinSizeAllowed: String(MIN_PART_BYTES), PartNumber: String(p.partNumber), ETag: p.etag },
        });
      }
      return s;
    });

    const files = this.objects.files;
    async function* concatenated(): AsyncGenerator<Buffer> {
      for (const part of chosen) {
        const body = await files.openRead(bucket, part.file);
        if (!body) throw noSuchUpload(uploadId);
        for await (const chunk of body) yield chunk as Buffer;
      }
    }
    const written = await this.objects.writeFile(bucket, concatenated(), MAX_OBJECT_BYTES);
    const md5s = createHash('md5');
    for (const p of chosen) md5s.update(Buffer.from(unquote(p.etag), 'hex'));
    const etag = `"${md5s.digest('hex')}-${chosen.length}"`;
    const allParts = [...stored.values()].map((p) => p.file);
    const object = await this.objects.commitNewVersion(
      bucket,
      key,
      written,
      etag,
      { ...(upload.content_type !== null ? { contentType: upload.content_type } : {}), metadata: JSON.parse(upload.metadata), headers: JSON.parse(upload.headers) },
      async (tx) => {
        if (!(await tx.objects.getUpload(uploadId))) throw noSuchUpload(uploadId);
        await tx.objects.deleteUpload(uploadId);
      },
    );
    for (const f of allParts) await files.remove(bucket, f);
    return object;
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.objects.requireBucket(bucket);
    await this.requireUpload(bucket, key, uploadId);
    const parts = await this.store.transaction(async (tx) => {
      const list = await tx.objects.listParts(uploadId);
      await tx.objects.deleteUpload(uploadId);
      return list;
    });
    for (const p of parts) await this.objects.files.remove(bucket, p.file);
  }
}
