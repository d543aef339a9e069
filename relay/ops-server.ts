import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics, renderMetrics } from './metrics.ts';

// The operations port (docs/relay-operations.md#health-and-metrics), separate
// from the client port so it is never exposed with it: GET /healthz for load
// balancers (503 once the node drains), GET /metrics for Prometheus.

/** Longest request target answered; a scrape or probe path is a few bytes. */
const MAX_URL_LENGTH = 256;
/** Time a client gets to send its request headers (slow clients are cut). */
const HEADERS_TIMEOUT_MS = 5_000;
/** Open sockets at once: enough for probes and scrapers, bounded against a flood. */
const MAX_SOCKETS = 64;

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
  // The port is for a load balancer and Prometheus only, but whoever reaches
  // it must not hold it: small headers, short deadlines (checked every second
  // rather than Node's 30 s), few sockets, no keep-alive past a few seconds.
  const http = createServer(
    {
      maxHeaderSize: 4_096,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: 2 * HEADERS_TIMEOUT_MS,
      keepAliveTimeout: HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
    },
    (request, response) => answer(request, response, queueDepth),
  );
  http.maxConnections = MAX_SOCKETS;
  http.maxHeadersCount = 32;
  // Sockets that go quiet after their request (keep-alive idlers) are closed too.
  http.setTimeout(2 * HEADERS_TIMEOUT_MS, (socket) => socket.destroy());
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

/** Answers one request; anything but GET of a short path is refused and the socket closed. */
function answer(
  request: IncomingMessage,
  response: ServerResponse,
  queueDepth: () => number,
): void {
  const url = request.url ?? '/';
  const path = url.split('?')[0];
  if (request.method !== 'GET') {
    // A body is never read: the socket closes after the answer.
    response.writeHead(405, { allow: 'GET', connection: 'close' }).end();
  } else if (url.length > MAX_URL_LENGTH) {
    response.writeHead(414, { connection: 'close' }).end();
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
}
