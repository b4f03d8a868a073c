import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteDefinition } from './route.js';
import { writeHead } from './response.js';

/**
 * What an operator's tools ask of the server (issue 14): `/metrics` in the Prometheus text format,
 * signed for `iot` on the main port (it tells about the fleet), and `/ready`, unsigned like
 * `/health`, for a load balancer or an orchestrator.
 */
export interface OperatorSources {
  metrics: { render(): Promise<string>; contentType: string };
  /** Undefined when ready; else why not (the database does not answer, a migration is missing). */
  notReady(): Promise<string | undefined>;
}

export function metricsRoute(o: OperatorSources): RouteDefinition {
  return {
    method: 'GET',
    path: '/metrics',
    operation: 'GetMetrics',
    handler: async () => ({ status: 200, rawBody: await o.metrics.render(), headers: { 'content-type': o.metrics.contentType } }),
  };
}

/** `/ready`: 200 once the database answers with every migration in place, else 503 with the reason. */
export function readyRoute(o: OperatorSources): RouteDefinition {
  return {
    method: 'GET',
    path: '/ready',
    operation: 'Ready',
    handler: async () => {
      const why = await o.notReady();
      return why === undefined ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'unavailable', reason: why } };
    },
  };
}

/** `--metrics-port`: GET /metrics, unsigned, and nothing else, for an address only monitoring reaches. */
export async function startMetricsListener(host: string, port: number, o: OperatorSources): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      writeHead(res, 404, { 'content-type': 'text/plain' });
      res.end('Only GET /metrics is served here.\n');
      return;
    }
    o.metrics.render().then(
      (text) => {
        writeHead(res, 200, { 'content-type': o.metrics.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
      () => {
        writeHead(res, 500, { 'content-type': 'text/plain' });
        res.end('The metrics could not be read.\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
