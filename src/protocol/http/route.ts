import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AwsErrorName } from '../../domain/errors.js';

/** What a route handler sees: decoded path labels, the query, the parsed JSON body. */
export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body ({} when the body is empty); undefined for routes that take raw bodies. */
  body: Record<string, unknown>;
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  requestId: string;
  /** The raw node request, for doors that stream (S3). */
  raw: IncomingMessage;
  response: ServerResponse;
}

export interface RouteResult {
  status?: number;
  /** Serialized as JSON unless `rawBody` is given. */
  body?: unknown;
  rawBody?: Buffer | string;
  headers?: Record<string, string | number>;
  /** The handler wrote the response itself (streaming). */
  handled?: boolean;
}

export type RouteHandler = (req: RouteRequest) => Promise<RouteResult> | RouteResult;

export interface RouteDefinition {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE' | 'HEAD';
  path: string;
  /** AWS operation name, for logs and errors. */
  operation: string;
  /** Where one route serves several operations (S3's subresources): which one this request is. */
  operationOf?: (query: URLSearchParams, headers: IncomingHttpHeaders) => string;
  handler: RouteHandler;
  /** 'json' (default): parse a JSON object body; 'raw': pass bytes through; 'stream': do not read the body. */
  body?: 'json' | 'raw' | 'stream';
}

/** One API served on the shared port, chosen by the SigV4 credential scope's service name. */
export interface ServiceApi {
  /** The API's name in the request log: iot, iot-jobs-data, iotdata or s3. */
  name: string;
  /** Signing names that select this API (e.g. ['iotdata', 'iotdevicegateway']). */
  signingNames: string[];
  routes: RouteDefinition[];
  /** The exception this API uses for malformed requests. */
  badRequestError: AwsErrorName;
  statusOverrides?: Partial<Record<AwsErrorName, number>>;
  /** This API's own text for a body over the door's size limit (413). */
  bodyTooLargeMessage?: string;
  /**
   * Writes an error in this API's own wire format (S3 answers XML). Without it, restJson1 is used.
   * Called for every DomainError, including the door's own (signature, body size, routing).
   */
  writeError?: (res: ServerResponse, requestId: string, name: AwsErrorName, message: string, members: Record<string, unknown>) => void;
}
