import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics, renderMetrics } from './metrics.ts';

// The operations port (docs/relay-operations.md#health-and-metrics), separate
// from the client port so it is never exposed with it: GET /healthz for load
// balancers (503 once the node drains), GET /metrics for Prometheus.

/** A listening operations server. */
export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves /healthz and /metrics on `host:port` (0 picks a free port). */
export async function startOpsServer(
  port: number,
  host: string,
  queueDepth: () => number,
): Promise<OpsServer> {
  const http = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/healthz') {
      const healthy = !metrics.draining;
      response
        .writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' })
        .end(healthy ? 'ok\n' : 'draining\n');
    } else if (path === '/metrics') {
      response
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        .end(renderMetrics(queueDepth()));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  return {
    port: (http.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
