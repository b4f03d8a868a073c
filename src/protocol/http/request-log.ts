import type { Logger } from 'pino';
import type { ServiceApi } from './route.js';

/**
 * The request log: exactly one line per request, written when its response is done (issue 14).
 * Info for 2xx–4xx, error for 5xx (with the error's stack, for the operator). It names what was
 * asked and how it ended, never what was sent: no bodies, no headers, no signatures.
 */
export interface RequestRecord {
  /** iot, iot-jobs-data, iotdata or s3, once the signing name picked one. */
  api?: string;
  /** The AWS operation name, once a route matched. */
  operation?: string;
  /** The AWS error name (S3's error code for S3) of a refused or failed request. */
  error?: string;
  /** What a 5xx came from. */
  cause?: unknown;
  /** The API whose format an error is written in, when the signing name does not say (unsigned requests). */
  errorApi?: ServiceApi;
}

export function logRequest(log: Logger, reqId: string, rec: RequestRecord, status: number, ms: number): void {
  const line: Record<string, unknown> = { reqId, status, ms: Math.round(ms * 100) / 100 };
  if (rec.api) line.api = rec.api;
  if (rec.operation) line.operation = rec.operation;
  if (rec.error) line.error = rec.error;
  if (status >= 500) {
    if (rec.cause !== undefined) line.err = rec.cause;
    log.error(line, 'request');
  } else {
    log.info(line, 'request');
  }
}
