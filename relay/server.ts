import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { RELAY_LIMITS } from '../shared/relay/protocol.ts';
import { RelayConnection } from './connection.ts';
import { log } from './log.ts';
import { relaySettings, type RelayServerOptions } from './options.ts';
import { ConnectionRegistry } from './registry.ts';

/** A relay that is not yet (or no longer) listening. */
export interface RelayServer {
  /** Starts listening; resolves with the bound port (pass 0 for a free one). */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, closes every connection (1001) after its work in progress, stops timers. Storage stays open. */
  close(): Promise<void>;
}

/** The WebSocket path of protocol version 1. */
export const RELAY_PATH = '/v1';

/** How long a closing peer gets to answer the close handshake before the socket is cut. */
const CLOSE_GRACE_MS = 2_000;

/**
 * Builds a relay (docs/relay-protocol.md) over the given storage. The factory
 * is separate from listening so tests can start one on port 0 in-process; the
 * caller owns the storage and closes it after `close()`.
 */
export function createRelayServer(options: RelayServerOptions): RelayServer {
  const settings = relaySettings(options);
  const registry = new ConnectionRegistry(settings.maxConnectionsPerAccount);
  const connections = new Set<RelayConnection>();
  const timers: NodeJS.Timeout[] = [];
  let closing = false;

  const http = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
    response.end(`sotto-relay speaks WebSocket at ${RELAY_PATH}\n`);
  });
  // perMessageDeflate off: the payload limit then bounds memory, and ciphertext does not compress anyway.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: RELAY_LIMITS.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => log.info('http.socket_error'));
    if (closing || pathOf(request) !== RELAY_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new RelayConnection(ws, settings, registry, (closed) =>
        connections.delete(closed),
      );
      connections.add(connection);
      log.info('conn.opened', { open: connections.size });
    });
  });

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const expired = await settings.storage.expireBefore(settings.now() - settings.ttlMs);
      if (expired > 0) log.info('ttl.expired', { envelopes: expired });
    } catch {
      log.error('ttl.sweep_failed');
    } finally {
      sweeping = false;
    }
  };

  return {
    async listen(port, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      timers.push(
        setInterval(
          () => connections.forEach((connection) => connection.heartbeat()),
          settings.heartbeatMs,
        ),
      );
      timers.push(setInterval(() => void sweep(), settings.sweepIntervalMs));
      await sweep();
      return (http.address() as AddressInfo).port;
    },

    async close() {
      closing = true;
      timers.splice(0).forEach(clearInterval);
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      await Promise.all([...connections].map((connection) => connection.shutdown(CLOSE_GRACE_MS)));
      http.closeAllConnections();
      await stopped;
      // A sweep in progress finishes before the caller closes the storage.
      while (sweeping) await new Promise((resolve) => setImmediate(resolve));
      log.info('relay.closed');
    },
  };
}

function pathOf(request: IncomingMessage): string {
  try {
    return new URL(request.url ?? '/', 'http://relay').pathname;
  } catch {
    return '';
  }
}
