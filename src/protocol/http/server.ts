import { createHash, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import { DomainError } from '../../domain/errors.js';
import { peerCertificateOf, type DeviceCertificateAuth, type PeerCertificate } from './device-certificates.js';
import { writeAwsError } from './errors.js';
import type { RouteDefinition, RouteResult, ServiceApi } from './route.js';
import { EMPTY_SHA256, readScope, type SigV4Verifier } from './sigv4.js';
import { logRequest, type RequestRecord } from './request-log.js';
import type { RequestThrottle } from './request-throttle.js';
import { writeHead } from './response.js';
import { TurnScheduler } from './turn-scheduler.js';

export interface HttpDoorOptions {
  apis: ServiceApi[];
  /** Undefined when authentication is off (--no-auth). */
  verifier?: SigV4Verifier;
  logger: Logger;
  maxJsonBodyBytes: number;
  /** Which API serves requests that carry no signature at all when auth is off. */
  defaultSigningName: string;
  /** Requests started per event-loop turn (turn-scheduler.ts). */
  requestsPerTurn?: number;
  /**
   * Routes an unsigned request may reach even with auth on, matched on method and exact path
   * (test mode's `/moto-api/reset`, unsigned as moto's is). Signed requests go through the APIs.
   */
  unsignedRoutes?: RouteDefinition[];
  /** The region `apis` serve (the home region). */
  homeRegion?: string;
  /** Whether a request's scope region is served; checked here too for --no-auth, where no verifier does. */
  servesRegion?: (region: string) => boolean;
  /**
   * Another region's APIs (the same routes, on that region's services; decision 0017), asked for
   * once a request signed for it is authenticated; undefined when that region is not served.
   */
  regionApis?: (region: string) => Promise<ServiceApi[] | undefined>;
  /** `--throttle`: per-operation rates, checked once a request is authenticated and its operation known. */
  throttle?: RequestThrottle;
  /** Told of every request once its answer is done (the metrics), with what the request log writes. */
  onRequestDone?: (rec: RequestRecord, status: number, ms: number) => void;
  /** HTTPS instead of HTTP (`--tls`, `--tls-cert`): the server certificate, and the CAs client certificates may chain to. */
  tls?: SecureContextOptions;
  /** Device planes' requests with a client certificate and no signature (device-certificates.ts). */
  deviceCertificates?: DeviceCertificateAuth;
}

/** Small enough that a turn stays around a millisecond of work, large enough to cost nothing measurable. */
const DEFAULT_REQUESTS_PER_TURN = 8;

interface BoundApi {
  api: ServiceApi;
  router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
}

class BodyTooLarge extends Error {}

const NO_BODY: Buffer = Buffer.alloc(0);

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  // Buffer.concat returns Buffer<ArrayBufferLike>; the callers only read it.
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A path whose first segment is an S3 bucket name (3–63 of a-z 0-9 . -) and no prefix of fleetjobs' own. */
function isUnsignedBucketPath(path: string): boolean {
  const first = path.split('/')[1] ?? '';
  return first !== 'moto-api' && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(first);
}

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/(x-amz-json-1\.[01]|json)\s*(;|$)/i.test(value);
}

/**
 * The HTTP door: one port carrying several AWS APIs, told apart by the SigV4 credential scope
 * (wire.md §2) because `iot` and `iot-jobs-data` share paths. It verifies the signature before any
 * route runs, parses the JSON body, and turns DomainErrors into restJson1 errors.
 */
function bind(apis: ServiceApi[]): Map<string, BoundApi> {
  const bySigningName = new Map<string, BoundApi>();
  for (const api of apis) {
    // Labels as long as a request line can be (node's 16 KiB header limit), so an over-long name
    // reaches its validator (400) instead of missing every route (404).
    const router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, maxParamLength: 16_384 });
    for (const route of api.routes) router.on(route.method, route.path, () => undefined, route);
    for (const name of api.signingNames) bySigningName.set(name, { api, router });
  }
  return bySigningName;
}

/** The planes a device's client certificate opens (device-security.md §6.1). */
const DEVICE_APIS = ['iot-jobs-data', 'iotdata'];

export function createHttpDoor(options: HttpDoorOptions): http.Server {
  const bySigningName = bind(options.apis);
  const regions = new Map<string, Promise<Map<string, BoundApi> | undefined>>();
  /** The region's bound APIs, made once; undefined for the home region and regions not served. */
  const regional = (region: string | undefined): Promise<Map<string, BoundApi> | undefined> => {
    if (!region || region === options.homeRegion || !options.regionApis) return Promise.resolve(undefined);
    let bound = regions.get(region);
    if (!bound) {
      bound = options.regionApis(region).then((apis) => (apis ? bind(apis) : undefined));
      // A region that failed to open is tried again by the next request.
      bound.catch(() => regions.delete(region));
      regions.set(region, bound);
    }
    return bound;
  };
  const log = options.logger;

  /**
   * An unsigned request's API, told by its path as AWS's separate endpoints tell them apart: the
   * first API with a route for it, devices' APIs first, so `GET /things/{t}/jobs` is the data
   * plane's GetPendingJobExecutions (what `aws iot-jobs-data --no-sign-request` sends), not the
   * control plane's ListJobExecutionsForThing (decision 0019).
   */
  const UNSIGNED_ORDER = ['iot-jobs-data', 'iotdata', 'iot', 's3'];
  const apiByPath = (method: string, path: string): BoundApi | undefined => {
    for (const name of UNSIGNED_ORDER) {
      const b = bySigningName.get(name);
      if (!b || !b.router.find(method as FindMyWay.HTTPMethod, path)) continue;
      // S3's routes take any first segment: only a bucket's name makes it S3, and fleetjobs'
      // own prefixes (/_fleetjobs/, /moto-api/) never are.
      if (name === 's3' && !isUnsignedBucketPath(path)) continue;
      return b;
    }
    return undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string, rec: RequestRecord): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const method = req.method ?? 'GET';
    const scope = readScope(req.headers.authorization, query);

    if (!scope && (path === '/' || path === '/health') && (method === 'GET' || method === 'HEAD')) {
      rec.operation = 'Health';
      const body = JSON.stringify({ status: 'ok', service: 'fleetjobs' });
      writeHead(res, 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    const open = scope ? undefined : options.unsignedRoutes?.find((r) => r.method === method && r.path === path);
    if (open) {
      rec.operation = open.operation;
      req.resume(); // a body is not read: these routes take none
      const result = await open.handler({ params: {}, query, body: {}, rawBody: NO_BODY, headers: req.headers, requestId, raw: req, response: res });
      writeResult(res, requestId, result, method);
      return;
    }
    // SigV2 (the AWS CLI v1's `aws s3 presign`, an `AWS key:signature` header) is S3's to refuse.
    if (!scope && (req.headers.authorization?.startsWith('AWS ') || (query.has('AWSAccessKeyId') && query.has('Signature')))) {
      rec.errorApi = bySigningName.get('s3')?.api;
      throw new DomainError('InvalidRequestException', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.', { s3: { code: 'InvalidRequest', status: 400 } });
    }
    const byPath = scope ? undefined : apiByPath(method, path);
    // A device on HTTPS with its certificate and no signature, as on AWS's data endpoint: only
    // the device planes' routes, for the certificate's thing under its policies (decision 0048).
    const peer: PeerCertificate | undefined = !scope && options.verifier && options.deviceCertificates && byPath && DEVICE_APIS.includes(byPath.api.name) ? peerCertificateOf(req) : undefined;
    if (!scope && options.verifier && !peer) {
      // In the format of the API the path belongs to: S3's XML AccessDenied for an S3 path.
      rec.errorApi = byPath?.api;
      throw new DomainError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const signingName = scope?.service ?? byPath?.api.signingNames[0] ?? options.defaultSigningName;
    const bound = bySigningName.get(signingName);
    if (!bound) throw new DomainError('UnrecognizedClientException', `This endpoint does not serve the signing name '${signingName}'.`);
    rec.api = bound.api.name;
    rec.errorApi = bound.api;

    // find-my-way answers "no route" for a label it cannot decode, and the signature check decodes
    // the query: both would be wrong answers (404, 403, 500) to what is a malformed request. This
    // is a check of the request's syntax, told to anyone; which routes exist is not.
    try {
      decodeURIComponent(path);
      if (q >= 0) decodeURIComponent(rawUrl.slice(q + 1));
    } catch {
      throw new DomainError(bound.api.badRequestError, 'The request path or query string is not validly percent-encoded.');
    }
    // The route is looked up now (the body's handling depends on it) but told only after the
    // signature holds: a caller without a valid key learns nothing about which routes exist.
    let match = bound.router.find(method as FindMyWay.HTTPMethod, path);
    let routingError: DomainError | undefined;
    if (match && Object.values(match.params).some((v) => v === undefined)) {
      match = null;
      routingError = new DomainError(bound.api.badRequestError, 'The request path or query string is not validly percent-encoded.');
    } else if (!match) {
      routingError = new DomainError('UnknownOperationException', `No ${signingName} operation matches ${method} ${path}.`);
    }
    const route = match?.store as RouteDefinition | undefined;
    const badRequest = (message: string) => new DomainError(bound.api.badRequestError, message);

    let rawBody: Buffer = NO_BODY;
    // HTTP/1.1: without Content-Length or Transfer-Encoding there is no body (every GET and DELETE
    // the SDKs send), so nothing is read and no stream events are waited for.
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    const streamed = route?.body === 'stream';
    if (!streamed && hasBody) {
      try {
        rawBody = await readBody(req, options.maxJsonBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          throw new DomainError('RequestEntityTooLargeException', bound.api.bodyTooLargeMessage ?? `The request body exceeds the maximum size of ${options.maxJsonBodyBytes} bytes.`);
        }
        throw err;
      }
    }

    if (options.verifier && !peer) {
      const parts = {
        method,
        rawUrl,
        headers: req.headers,
        bodySha256: streamed ? undefined : rawBody.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(rawBody).digest('hex'),
      };
      if (req.headers.authorization) await options.verifier.verifyHeaderSigned(parts);
      else await options.verifier.verifyPresigned(parts);
    }
    // Every region has the same routes, so the home region's decided how to read the body; the
    // handler is the region's own, looked up only now that the request is authenticated.
    if (scope && options.servesRegion && !options.servesRegion(scope.region)) {
      throw new DomainError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${scope.region}'.`);
    }
    const inRegion = (await regional(scope?.region).catch((err: unknown) => {
      if (err instanceof DomainError) throw err;
      throw new DomainError('ThrottlingException', `The region ${scope?.region} cannot be opened now; try again.`);
    }))?.get(signingName);
    if (inRegion && match) {
      match = inRegion.router.find(method as FindMyWay.HTTPMethod, path);
    }
    if (!match) throw routingError!;
    const handlerRoute = match.store as RouteDefinition | undefined;
    if (!route || !handlerRoute) throw routingError!;
    rec.operation = handlerRoute.operationOf?.(query, req.headers) ?? handlerRoute.operation;
    // Authorized before throttling and before any handler runs, as MQTT publishes are.
    if (peer) await options.deviceCertificates!.authorize(peer, { operation: rec.operation, thingName: (match.params as Record<string, string>).thingName, shadowName: query.get('name') ?? undefined }, rec);
    options.throttle?.check(bound.api.name, rec.operation);

    let body: Record<string, unknown> = {};
    if ((route.body ?? 'json') === 'json' && rawBody.length > 0) {
      if (!isJsonContentType(req.headers['content-type'])) {
        throw new DomainError('UnsupportedMediaTypeException', `Unsupported Content-Type '${req.headers['content-type'] ?? ''}': this operation takes application/json.`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw badRequest('Could not parse request body into json: the body is not valid JSON.');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw badRequest('Could not parse request body into json: the body must be a JSON object.');
      }
      body = parsed as Record<string, unknown>;
    }

    const result = await handlerRoute.handler({
      params: match.params as Record<string, string>,
      query,
      body,
      rawBody,
      headers: req.headers,
      requestId,
      raw: req,
      response: res,
    });
    writeResult(res, requestId, result, method);
  }

  const scheduler = new TurnScheduler(options.requestsPerTurn ?? DEFAULT_REQUESTS_PER_TURN);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => scheduler.run(() => {
    const requestId = randomUUID();
    const started = performance.now();
    const rec: RequestRecord = {};
    // One line per request once its response is done, whether it ended well, badly or cut off.
    res.once('close', () => {
      const ms = performance.now() - started;
      logRequest(log, requestId, rec, res.statusCode, ms);
      options.onRequestDone?.(rec, res.statusCode, ms);
    });
    handle(req, res, requestId, rec).catch((err: unknown) => {
      const rawUrl = req.url ?? '/';
      const scope = readScope(req.headers.authorization, new URLSearchParams(rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : ''));
      const api = rec.errorApi ?? bySigningName.get(scope?.service ?? options.defaultSigningName)?.api;
      if (err instanceof DomainError) {
        rec.error = (err.members.s3 as { code?: string } | undefined)?.code ?? err.errorName;
        if (api?.writeError) api.writeError(res, requestId, err.errorName, err.message, err.members);
        else writeAwsError(res, requestId, err.errorName, err.message, err.members, api?.statusOverrides);
        return;
      }
      rec.error = 'InternalFailureException';
      rec.cause = err;
      // In the API's own format (S3 answers XML), and never a second status line.
      if (api?.writeError) api.writeError(res, requestId, 'InternalFailureException', 'Internal service failure.', {});
      else writeAwsError(res, requestId, 'InternalFailureException', 'Internal service failure.');
    });
  });
  // A client certificate is asked for and judged per request (device-certificates.ts), never
  // required by the handshake: SDKs and the CLI present none. https.Server has http.Server's API.
  const server = options.tls
    ? (https.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: false }, onRequest) as unknown as http.Server)
    : http.createServer(onRequest);
  server.keepAliveTimeout = 65_000;
  return server;
}

function writeResult(res: ServerResponse, requestId: string, result: RouteResult, method: string): void {
  if (result.handled) return;
  const payload = result.rawBody ?? JSON.stringify(result.body ?? {});
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    'content-length': Buffer.byteLength(payload),
    ...result.headers,
  };
  writeHead(res, result.status ?? 200, headers);
  res.end(method === 'HEAD' ? undefined : payload);
}
