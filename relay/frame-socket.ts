import WebSocket from 'ws';
import { log } from './log.ts';

const MISSED_PONGS_BEFORE_CLOSE = 2;

/**
 * The socket half of a relay connection: sending text, closing, heartbeats,
 * pausing reads, and the shutdown grace. It knows nothing of the protocol;
 * RelayConnection decides what to send and when.
 */
export class FrameSocket {
  /** Resolves once the socket is closed, however that happened. */
  readonly closed: Promise<void>;
  private unansweredPings = 0;

  constructor(private readonly socket: WebSocket) {
    socket.on('pong', () => {
      this.unansweredPings = 0;
    });
    // ws reports protocol violations (oversized frame: 1009, bad UTF-8: 1007) here and closes by itself.
    socket.on('error', () => log.info('conn.socket_error'));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** True while frames can be sent. */
  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends one text frame; false if the socket is no longer open. */
  sendText(text: string): boolean {
    if (!this.open) return false;
    this.socket.send(text);
    return true;
  }

  /** Starts the close handshake (a no-op once closing). */
  close(code: number, reason: string): void {
    const state = this.socket.readyState;
    if (state === WebSocket.OPEN || state === WebSocket.CONNECTING) this.socket.close(code, reason);
  }

  /** Heartbeat tick: a WebSocket ping; the second one in a row without a pong cuts the socket. */
  heartbeat(): void {
    if (this.unansweredPings >= MISSED_PONGS_BEFORE_CLOSE) {
      log.info('conn.heartbeat_lost');
      this.socket.terminate();
      return;
    }
    this.unansweredPings += 1;
    if (this.open) this.socket.ping();
  }

  /** Stops reading for `ms` (new frames wait in the kernel), then reads again if still open. */
  async pauseReading(ms: number): Promise<void> {
    this.socket.pause();
    await new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
    if (this.open) this.socket.resume();
  }

  /** Closes, waits up to `graceMs` for the peer to answer, then cuts the socket; resolves once closed. */
  async closeWithin(code: number, reason: string, graceMs: number): Promise<void> {
    this.close(code, reason);
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([this.closed, grace]);
    this.socket.terminate();
    await this.closed;
  }
}
