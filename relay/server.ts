import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer, Server as TlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { RELAY_LIMITS } from '../shared/relay/protocol.ts';
import { AddressLimit, clientAddress, isLoopback } from './address-limit.ts';
import { BlobHttp } from './blobs/http.ts';
import { sweepBlobs } from './blobs/sweep.ts';
import { RelayBudgets } from './budgets.ts';
import { DeliveryTokens } from './delivery-tokens.ts';
import { wakeMailboxes } from './delivery.ts';
import { RelayConnection } from './connection.ts';
import { HeartbeatWheel } from './heartbeat-wheel.ts';
import { log } from './log.ts';
import { pollMailboxes } from './mailbox-poll.ts';
import { metrics } from './metrics.ts';
import { relaySettings, type RelayServerOptions, type RelaySettings } from './options.ts';
import { ConnectionRegistry } from './registry.ts';
import { pollSliceOf, TAKEN_KEY_MEMORY_MS } from './storage.ts';

/** A relay that is not yet (or no longer) listening. */
export interface RelayServer {
  /** Starts listening; resolves with the bound port (pass 0 for a free one). */
  listen(port: number, host?: string): Promise<number>;
  /** Replaces the TLS key and certificate for new connections (SIGHUP); only for a TLS relay. */
  reloadTls(tls: { readonly key: string | Buffer; readonly cert: string | Buffer }): void;
  /** Stops accepting, closes every connection (1001) after its work in progress, stops timers. Storage stays open. */
  close(): Promise<void>;
  /** Envelopes pushed by this relay and not yet acked, over all connections (the queue-depth metric). */
  pushesInFlight(): number;
}

/** The WebSocket path of protocol version 2. */
export const RELAY_PATH = '/v2';
/** Protocol 1's path: accepted only to tell its clients to upgrade. */
const LEGACY_PATH = '/v1';

/** How long a closing peer gets to answer the close handshake before the socket is cut. */
const CLOSE_GRACE_MS = 2_000;

function createHttp(settings: RelaySettings, onRequest: RequestListener): Server {
  // requestTimeout off: a 100 MiB PATCH on a slow link may take long; blob
  // requests have their own idle timeout instead, and headers the upgrade deadline.
  const options = { requestTimeout: 0 };
  return settings.tls
    ? // handshakeTimeout: a TLS handshake that stalls counts against the upgrade deadline too.
      createTlsServer(
        { ...settings.tls, ...options, handshakeTimeout: settings.upgradeTimeoutMs },
        onRequest,
      )
    : createServer(options, onRequest);
}

/**
 * Builds a relay (docs/relay-protocol.md) over the given storage. The factory
 * is separate from listening so tests can start one on port 0 in-process; the
 * caller owns the storage and closes it after `close()`.
 */
export function createRelayServer(options: RelayServerOptions): RelayServer {
  const settings = relaySettings(options);
  const registry = new ConnectionRegistry(settings.maxConnectionsPerAccount);
  const budgets = new RelayBudgets(settings.budgets, settings.now, settings.storage);
  const tokens = new DeliveryTokens(settings.storage);
  const perAddress = new AddressLimit(settings.maxConnectionsPerAddress);
  const connections = new Set<RelayConnection>();
  const heartbeats = new HeartbeatWheel<RelayConnection>(settings.heartbeatMs);
  const timers: NodeJS.Timeout[] = [];
  const upgradeDeadlines = new WeakMap<Duplex, NodeJS.Timeout>();
  let closing = false;
  const blobs = new BlobHttp(settings, budgets);

  // Blobs (docs/relay-protocol.md#blobs); any other plain HTTP request is told to upgrade.
  const http = createHttp(settings, (request, response) => {
    clearTimeout(upgradeDeadlines.get(request.socket));
    if (BlobHttp.matches(request))
      return blobs.handle(request, response, clientAddress(request, settings.trustProxy));
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

  // Every TCP connection counts against its address from the first byte, so
  // sockets that never finish their headers are capped too. Behind a trusted
  // local proxy the proxy's sockets are not counted; the forwarded address is, at the upgrade.
  http.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? 'unknown';
    if (settings.trustProxy && isLoopback(peer)) return;
    if (!perAddress.tryAdd(peer)) {
      log.info('conn.address_cap');
      socket.destroy();
      return;
    }
    socket.once('close', () => perAddress.remove(peer));
  });
  // The upgrade request must be complete within the deadline (slow-header sockets are cut).
  http.on(settings.tls ? 'secureConnection' : 'connection', (socket: Duplex) => {
    const timer = setTimeout(() => {
      log.info('http.upgrade_timeout');
      socket.destroy();
    }, settings.upgradeTimeoutMs);
    upgradeDeadlines.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    clearTimeout(upgradeDeadlines.get(socket));
    socket.on('error', () => log.info('http.socket_error'));
    const path = pathOf(request);
    if (closing || (path !== RELAY_PATH && path !== LEGACY_PATH)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const address = clientAddress(request, settings.trustProxy);
    const proxied = address !== request.socket.remoteAddress;
    if (proxied && !perAddress.tryAdd(address)) {
      socket.end(
        'HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    if (proxied) socket.once('close', () => perAddress.remove(address));
    wss.handleUpgrade(request, socket, head, (ws) => {
      const env = { settings, registry, budgets, tokens, address, legacy: path === LEGACY_PATH };
      const connection = new RelayConnection(ws, env, (closed) => {
        connections.delete(closed);
        heartbeats.remove(closed);
        metrics.connections = connections.size;
      });
      connections.add(connection);
      heartbeats.add(connection);
      metrics.connections = connections.size;
      log.info('conn.opened', { open: connections.size });
    });
  });

  // Another node stored mail for a device connected here (shared storage only).
  settings.storage.onEnvelopesArrived?.((wakeup) => {
    if (wakeup === 'all') void pollMailboxes(settings.storage, connections);
    else if ('pollSlice' in wakeup) {
      const inSlice = [...connections].filter((connection) => {
        const mailbox = connection.loggedIn;
        return mailbox !== undefined && pollSliceOf(mailbox, wakeup.of) === wakeup.pollSlice;
      });
      void pollMailboxes(settings.storage, inSlice);
    } else wakeMailboxes(wakeup, (mailbox) => registry.ofMailbox(mailbox));
  });

  // A move made through another node (PostgreSQL: nodes share the account
  // table) closes this node's connections of that account at the next check.
  let checkingMoves = false;
  const evictMoved = async () => {
    const accounts = registry.accounts();
    if (checkingMoves || accounts.length === 0) return;
    checkingMoves = true;
    try {
      const moved = await settings.storage.movedAmong(accounts);
      for (const account of moved) for (const peer of registry.ofAccount(account)) peer.evict();
      if (moved.length > 0) log.info('account.moved_elsewhere', { accounts: moved.length });
    } catch {
      log.error('account.moved_check_failed');
    } finally {
      checkingMoves = false;
    }
  };

  let sweeping = false;
  /** Runs a batched delete until a batch comes back short (or the relay closes); returns the total. */
  const inBatches = async (batch: (limit: number) => Promise<number>): Promise<number> => {
    let total = 0;
    for (;;) {
      const deleted = await batch(settings.sweepBatch);
      total += deleted;
      if (deleted < settings.sweepBatch || closing) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  // Small batches, each its own transaction, yielding between them: intake
  // never waits behind one long delete.
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      budgets.prune();
      const { storage, now, ttlMs } = settings;
      const expired = await inBatches((batch) => storage.expireBefore(now() - ttlMs, batch));
      if (expired > 0) log.info('ttl.expired', { envelopes: expired });
      const forgotten = await inBatches((batch) =>
        storage.forgetTakenKeys(now() - TAKEN_KEY_MEMORY_MS, batch),
      );
      if (forgotten > 0) log.info('ttl.taken_keys_forgotten', { keys: forgotten });
      const blobsSwept = await sweepBlobs(settings, () => closing);
      if (blobsSwept > 0) log.info('ttl.blobs_expired', { blobs: blobsSwept });
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
      heartbeats.start();
      timers.push(setInterval(() => void sweep(), settings.sweepIntervalMs));
      timers.push(setInterval(() => void evictMoved(), settings.movedCheckMs));
      await sweep();
      return (http.address() as AddressInfo).port;
    },

    pushesInFlight() {
      let pending = 0;
      for (const connection of connections) pending += connection.pushesInFlight;
      return pending;
    },

    reloadTls(tls) {
      if (!(http instanceof TlsServer)) throw new Error('this relay does not serve TLS');
      http.setSecureContext({ key: tls.key, cert: tls.cert });
    },

    async close() {
      closing = true;
      timers.splice(0).forEach(clearInterval);
      heartbeats.stop();
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      await Promise.all([
        ...[...connections].map((connection) => connection.shutdown(CLOSE_GRACE_MS)),
        blobs.drain(CLOSE_GRACE_MS),
      ]);
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
