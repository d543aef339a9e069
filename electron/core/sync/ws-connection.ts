import WebSocket from 'ws';
import type {
  ClientFrame,
  RelayId,
  ServerFrame,
  WireEnvelope,
} from '../../../shared/relay/protocol.ts';
import { log } from '../log.ts';
import { RelayUnavailableError, relayFailure } from './relay-failure.ts';
import type { RelayIdentity } from './relay.ts';
import { handshake, parseFrame } from './ws-handshake.ts';

// One protocol-2 WebSocket connection to a relay, after `ready` (the
// handshake before it, relay-id check and login, is ws-handshake.ts): requests
// matched to answers by id, pushes handed to the owner, and a heartbeat. The
// heartbeat is an application `ping` sent whenever the connection has been
// quiet for `pingIntervalMs`; no answer within `pongTimeoutMs` means the
// connection is dead (a half-open TCP connection never reports itself) and it
// is cut, so the owner reconnects instead of waiting on the OS.

/** Timeouts of a relay connection (all in ms). */
export interface RelayConnectionOptions {
  /** TCP + WebSocket upgrade + `ready` (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** One request's answer (default 15 s); a request that times out cuts the connection. */
  readonly requestTimeoutMs?: number;
  /** Quiet time before a heartbeat ping (default 25 s, under the relay's 30 s). */
  readonly pingIntervalMs?: number;
  /** How long a heartbeat may go unanswered (default 10 s). */
  readonly pongTimeoutMs?: number;
}

/** How the connection identifies itself after the challenge. */
export type RelayLogin =
  { readonly mode: 'anonymous' } | { readonly mode: 'account'; readonly identity: RelayIdentity };

/** The relay-id rule for this address: the pinned id (if any) and what to do when a first id is seen. */
export interface RelayIdPin {
  expected(): RelayId | undefined;
  /** Called with the relay's id at the first successful connection (`ready`) when nothing was pinned yet. */
  remember?(relayId: RelayId): void;
}

/** What the owner hears from an open connection. */
export interface RelayConnectionEvents {
  onEnvelopes?(envelopes: readonly WireEnvelope[]): void;
  onKeysLow?(): void;
  /** The connection ended (closed, cut by the heartbeat, or failed). */
  onClose?(): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request frame without its id (the connection numbers requests). */
export type RelayRequest = DistributiveOmit<Exclude<ClientFrame, { type: 'hello' | 'auth' }>, 'id'>;

/** Error answers after which the relay closes the connection (docs/relay-protocol.md#errors). */
const CLOSING_CODES: ReadonlySet<string> = new Set([
  'RELAY_ERR_MALFORMED',
  'RELAY_ERR_UNKNOWN_TYPE',
  'RELAY_ERR_UNSUPPORTED_VERSION',
]);

type Pending = {
  resolve: (frame: ServerFrame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
};

/** An open connection (after `ready`). */
export class RelayConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private idleTimer: NodeJS.Timeout | undefined;
  private open = true;

  private constructor(
    private readonly socket: WebSocket,
    /** The relay id the challenge named (checked against the pin). */
    readonly relayId: RelayId,
    /** Envelopes waiting at `ready` (account connections). */
    readonly queued: number,
    private readonly events: RelayConnectionEvents,
    private readonly options: RelayConnectionOptions,
  ) {}

  /** Connects to `<address>/v2`, checks the relay id, logs in or says anonymous, and resolves at `ready`. */
  static connect(
    address: string,
    login: RelayLogin,
    pin: RelayIdPin,
    events: RelayConnectionEvents,
    options: RelayConnectionOptions = {},
  ): Promise<RelayConnection> {
    return handshake(
      address,
      login,
      pin,
      options.connectTimeoutMs ?? 10_000,
      (socket, relayId, queued) => {
        const connection = new RelayConnection(socket, relayId, queued, events, options);
        connection.attach();
        return connection;
      },
    );
  }

  /** True until the connection closed or was cut. */
  get alive(): boolean {
    return this.open;
  }

  /** Sends a request and resolves with its answer; an `error` answer rejects (relayFailure). */
  request(
    frame: RelayRequest,
    timeoutMs = this.options.requestTimeoutMs ?? 15_000,
  ): Promise<ServerFrame> {
    if (!this.open) return Promise.reject(new RelayUnavailableError('connection lost'));
    const id = this.nextId++;
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RelayUnavailableError('request timed out'));
        // No answer in time: the connection is not trustworthy any more (answers come in order).
        this.cut('request timeout');
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Closes the connection (1000) and fails what is in flight. */
  async close(): Promise<void> {
    const socket = this.socket;
    this.ended();
    if (socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const killer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 1_000);
      killer.unref();
      socket.once('close', () => {
        clearTimeout(killer);
        resolve();
      });
      socket.close(1000);
    });
  }

  private attach(): void {
    this.socket.on('message', (data, isBinary) => {
      const frame = isBinary ? undefined : parseFrame(data);
      if (!frame) {
        log.warn('relay.malformed_frame');
        this.cut('malformed frame');
        return;
      }
      this.armHeartbeat();
      this.dispatch(frame);
    });
    this.socket.on('close', () => this.ended());
    this.socket.on('error', () => this.cut('socket error'));
    this.armHeartbeat();
  }

  private dispatch(frame: ServerFrame): void {
    switch (frame.type) {
      case 'envelopes':
        this.events.onEnvelopes?.(frame.envelopes);
        return;
      case 'keys.low':
        this.events.onKeysLow?.();
        return;
      case 'ok':
      case 'bundle':
      case 'keys.status':
      case 'pong':
      case 'sent':
      case 'sent.multi':
      case 'blob.created':
      case 'error': {
        if (frame.id === undefined) return; // an unsolicited error: the close that follows tells the rest
        const pending = this.pending.get(frame.id);
        if (!pending) return;
        this.pending.delete(frame.id);
        clearTimeout(pending.timer);
        if (frame.type === 'error') pending.reject(relayFailure(frame.code, frame.retryAfterMs));
        else pending.resolve(frame);
        // The relay's close follows; until it arrives this connection must not look usable.
        if (frame.type === 'error' && CLOSING_CODES.has(frame.code))
          this.cut('closed by the relay');
        return;
      }
      case 'challenge':
      case 'ready':
        this.cut('handshake frame after ready');
        return;
    }
  }

  /** (Re)starts the quiet timer: any frame from the relay proves the connection is alive. */
  private armHeartbeat(): void {
    clearTimeout(this.idleTimer);
    if (!this.open) return;
    this.idleTimer = setTimeout(() => {
      this.request({ type: 'ping' }, this.options.pongTimeoutMs ?? 10_000).catch(() => {
        log.info('relay.heartbeat_missed');
      });
    }, this.options.pingIntervalMs ?? 25_000);
  }

  /** Gives up on a connection that misbehaved or went silent: no close handshake, the owner reconnects. */
  private cut(reason: string): void {
    if (!this.open) return;
    log.info('relay.connection_cut', { heartbeat: reason === 'request timeout' });
    this.socket.terminate();
    this.ended();
  }

  private ended(): void {
    if (!this.open) return;
    this.open = false;
    clearTimeout(this.idleTimer);
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new RelayUnavailableError('connection lost'));
      this.pending.delete(id);
    }
    this.events.onClose?.();
  }
}
