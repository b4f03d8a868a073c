import { invalidRequest } from '../errors.js';
import type { S3Location } from '../s3-location.js';

/** An S3 object location as job documents and package artifacts name it. */
export type ObjectLocation = S3Location;

/** GET for downloads and package artifacts, PUT for `s3-presigned-url-upload`. */
export type PresignMethod = 'GET' | 'PUT';

/**
 * Makes the presigned URLs of job documents' presigned-URL placeholders (jobs.md §7.2) each time a
 * device reads a document: GET for downloads and package artifacts, PUT for
 * `s3-presigned-url-upload`. The object-store feature provides the real one.
 */
export interface JobDocumentUrls {
  presign(location: ObjectLocation, expiresInSec: number, method: PresignMethod): Promise<string>;
}

/** Reads a CreateJob `documentSource` (an S3 URL) once, at creation (jobs.md §7.1). */
export interface JobDocumentSource {
  fetch(documentSourceUrl: string): Promise<string>;
}

export const noJobDocumentUrls: JobDocumentUrls = {
  presign: async () => {
    throw invalidRequest('Cannot generate an S3 presigned url for the job document: no object store is configured.');
  },
};

export const noJobDocumentSource: JobDocumentSource = {
  fetch: async () => {
    throw invalidRequest('Cannot read the job document source: no object store is configured.');
  },
};
