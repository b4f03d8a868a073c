import { KeepAliveSocket, type ParsedResponse } from '../support/keep-alive-socket.js';
import { signHeaders } from '../support/raw-signed-http.js';
import * as m from './mutations.js';
import { Prng } from './prng.js';
import { allRoutes, type FuzzRoute } from './routes.js';

/**
 * Signed requests with mutated inputs over every route of every API (issue 8, item 8). Each
 * worker keeps one kept-alive connection and reads every answer by its framing, so a second
 * status line or a length that is not sent shows up on the next answer. A finding is any 5xx (but
 * S3's NotImplemented), an answer without the API's error shape, a hang, or a broken connection.
 */
export interface Finding {
  kind: string;
  request: string;
  detail: string;
}

export interface FuzzReport {
  sent: number;
  byStatus: Record<string, number>;
  findings: Finding[];
}

export const enc = (q: Record<string, string>) => {
  const e = Object.entries(q);
  return e.length === 0 ? '' : '?' + e.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
};

export interface Built {
  service: FuzzRoute['service'];
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | null>;
  body?: string;
}

export function build(r: Prng, route: FuzzRoute): Built {
  if (route.service === 's3') {
    const bucket = r.chance(0.7) ? m.SEEDED.bucket : m.pathLabel(r);
    const key = r.chance(0.6) ? m.SEEDED.key : r.chance(0.5) ? `fz/${m.pathLabel(r)}` : m.pathLabel(r);
    const path = route.path === '/' ? '/' : route.path === '/:bucket' ? `/${bucket}` : `/${bucket}/${key}`;
    const body = route.method === 'PUT' || route.method === 'POST' ? m.s3Body(r) : undefined;
    return { service: 's3', method: route.method, path, query: m.s3Query(r), headers: { 'content-type': r.chance(0.5) ? 'application/octet-stream' : null, ...m.s3Headers(r) }, body };
  }
  const path = route.path.replace(/:[a-zA-Z]+/g, () => m.pathLabel(r));
  const body = route.method === 'GET' || route.method === 'DELETE' ? (r.chance(0.05) ? m.body(r) : undefined) : m.body(r);
  const headers: Record<string, string | null> = {};
  if (r.chance(0.05)) headers['content-type'] = r.pick(['text/plain', 'application/xml', 'application/json; charset=utf-8', '']);
  return { service: route.service, method: route.method, path, query: m.query(r), headers, body };
}

function check(b: Built, res: ParsedResponse): string | undefined {
  if (!Number.isInteger(res.status)) return `unparseable status line ${JSON.stringify(res.statusLine)}`;
  // S3 answers 501 NotImplemented for what this subset does not serve (a HEAD carries no body to show the code).
  const notImplemented = b.service === 's3' && res.status === 501 && (b.method === 'HEAD' || res.body.includes('<Code>NotImplemented</Code>'));
  if (res.status >= 500 && !notImplemented) return `${res.status}: ${res.body.slice(0, 300)}`;
  if (!res.headers['x-amzn-requestid'] && !res.headers['x-amz-request-id']) return 'no request id header';
  if (b.method === 'HEAD' || res.status === 204 || res.status === 304) return undefined;
  if (res.status >= 400) {
    if (b.service === 's3') return /^<\?xml[^>]*>\s*<Error><Code>[A-Za-z]+<\/Code>/.test(res.body) ? undefined : `S3 error without XML: ${res.body.slice(0, 200)}`;
    if (!res.headers['x-amzn-errortype']) return `error without x-amzn-ErrorType: ${res.body.slice(0, 200)}`;
    try {
      const json = JSON.parse(res.body) as { message?: unknown };
      if (typeof json.message !== 'string' || json.message.length === 0) return `error without a message: ${res.body.slice(0, 200)}`;
    } catch {
      return `error body is not JSON: ${res.body.slice(0, 200)}`;
    }
  }
  return undefined;
}

export async function fuzzRoutes(baseUrl: string, opts: { iterations: number; seed: number; workers?: number }): Promise<FuzzReport> {
  const routes = allRoutes();
  const report: FuzzReport = { sent: 0, byStatus: {}, findings: [] };
  const workers = opts.workers ?? 4;
  const per = Math.ceil(opts.iterations / workers);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const r = new Prng(opts.seed * 1000 + w);
      let socket = await KeepAliveSocket.open(baseUrl);
      try {
        for (let i = 0; i < per; i++) {
          // Every route gets its turn: a round-robin start, then random picks.
          const route = i < routes.length ? routes[(i + w) % routes.length] : r.pick(routes);
          const b = build(r, route);
          const describe = `${b.service} ${b.method} ${b.path}${enc(b.query)} (seed ${opts.seed}, worker ${w}, #${i})`;
          const headers = await signHeaders(baseUrl, { method: b.method, path: b.path, query: b.query, body: b.body, headers: b.headers }, { service: b.service });
          delete headers.connection;
          if (socket.isClosed) socket = await KeepAliveSocket.open(baseUrl);
          socket.send(b.method, b.path + enc(b.query), headers, b.body ?? '');
          let res: ParsedResponse;
          try {
            res = await socket.read({ head: b.method === 'HEAD', timeoutMs: 15_000 });
          } catch (err) {
            // A server may close after refusing a body it did not read (413, an S3 upload refused early).
            if (socket.isClosed && (err as Error).message.startsWith('connection closed')) {
              socket = await KeepAliveSocket.open(baseUrl);
              continue;
            }
            report.findings.push({ kind: 'no answer', request: describe, detail: (err as Error).message.slice(0, 300) });
            socket.close();
            socket = await KeepAliveSocket.open(baseUrl);
            continue;
          }
          report.sent++;
          report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
          const problem = check(b, res);
          if (problem) report.findings.push({ kind: 'bad answer', request: describe, detail: problem });
          if (res.headers.connection === 'close') socket = await KeepAliveSocket.open(baseUrl);
        }
      } finally {
        socket.close();
      }
    }),
  );
  const health = await fetch(`${baseUrl}/health`).catch((err: Error) => ({ status: 0, err }));
  if (health.status !== 200) report.findings.push({ kind: 'server down', request: 'GET /health', detail: String(health.status) });
  return report;
}
