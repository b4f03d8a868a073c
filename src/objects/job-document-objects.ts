import { invalidRequest } from '../domain/errors.js';
import type { JobDocumentSource, JobDocumentUrls, ObjectLocation, PresignMethod } from '../domain/jobs/job-ports.js';
import { decodeUrlComponent, s3LocationOfUrlParts } from '../domain/s3-location.js';
import type { ObjectStore } from './object-store.js';

/** The largest job document (jobs.md §7.1). */
const MAX_DOCUMENT_BYTES = 32 * 1024;

/** Presigned GET and PUT URLs for the presigned-URL placeholders of job documents (jobs.md §7.2). */
export class ObjectStoreJobDocumentUrls implements JobDocumentUrls {
  constructor(private readonly objects: ObjectStore) {}

  presign(location: ObjectLocation, expiresInSec: number, method: PresignMethod): Promise<string> {
    return method === 'PUT'
      ? this.objects.presignPut(location.bucket, location.key, expiresInSec)
      : this.objects.presignGet(location.bucket, location.key, location.version, expiresInSec);
  }
}

/**
 * Bucket, key and version of a `documentSource` URL: path-style (`https://s3.amazonaws.com/b/k`,
 * `https://s3.{region}.amazonaws.com/b/k`, or any other host such as this server's own S3 door)
 * or virtual-hosted (`https://b.s3.{region}.amazonaws.com/k`); the key is percent-decoded and a
 * `?versionId=` selects a version.
 */
export function parseDocumentSourceUrl(text: string): ObjectLocation | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const loc = s3LocationOfUrlParts(url.hostname.toLowerCase(), url.pathname.replace(/^\//, ''), decodeUrlComponent);
  if (!loc) return undefined;
  const version = url.searchParams.get('versionId');
  return { ...loc, ...(version ? { version } : {}) };
}

/** Reads a CreateJob `documentSource` from the object store, once, at creation (jobs.md §7.1). */
export class ObjectStoreJobDocumentSource implements JobDocumentSource {
  constructor(private readonly objects: ObjectStore) {}

  async fetch(documentSourceUrl: string): Promise<string> {
    const loc = parseDocumentSourceUrl(documentSourceUrl);
    if (!loc) throw invalidRequest(`The job document source ${documentSourceUrl} is not a valid S3 object URL.`);
    const lookup = await this.objects.head(loc.bucket, loc.key, loc.version);
    if (!lookup.found) {
      throw invalidRequest(`The job document source ${documentSourceUrl} cannot be read: the S3 ${lookup.missing === 'bucket' ? 'bucket' : lookup.missing === 'key' ? 'object' : 'object version'} does not exist.`);
    }
    if (lookup.head.size > MAX_DOCUMENT_BYTES) {
      throw invalidRequest(`The job document source ${documentSourceUrl} is larger than the maximum job document size of ${MAX_DOCUMENT_BYTES} bytes.`);
    }
    let opened;
    try {
      opened = await this.objects.open(loc.bucket, loc.key, loc.version);
    } catch {
      throw invalidRequest(`The job document source ${documentSourceUrl} cannot be read: the S3 object does not exist.`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of opened.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_DOCUMENT_BYTES) {
        opened.body.destroy();
        throw invalidRequest(`The job document source ${documentSourceUrl} is larger than the maximum job document size of ${MAX_DOCUMENT_BYTES} bytes.`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
