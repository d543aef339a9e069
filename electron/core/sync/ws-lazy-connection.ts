import { SottoError } from '../errors.ts';
import type { RelayConnection } from './ws-connection.ts';

// The connection handling both WebSocket relay clients share (ws-relay.ts,
// ws-home-relay.ts): open on first use, again after a loss, never after close.

/**
 * A relay connection opened on first use and re-opened after it died; calls
 * arriving while it opens share the one attempt. Closing waits for an attempt
 * in flight, so no socket outlives its client.
 */
export class LazyConnection {
  private connection: RelayConnection | undefined;
  private connecting: Promise<RelayConnection> | undefined;
  private closed = false;

  constructor(private readonly connect: () => Promise<RelayConnection>) {}

  /** The live connection, opened if needed; RELAY_UNAVAILABLE once closed. */
  open(): Promise<RelayConnection> {
    if (this.closed) return Promise.reject(new SottoError('RELAY_UNAVAILABLE', 'closed'));
    if (this.connection?.alive) return Promise.resolve(this.connection);
    this.connecting ??= this.connect()
      .then((connection) => {
        this.connection = connection;
        return connection;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  /** Forgets a connection that was lost: the next `open` connects again. */
  lost(): void {
    this.connection = undefined;
  }

  /** Closes for good (after an attempt in flight). */
  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection ?? (await this.connecting?.catch(() => undefined));
    this.connection = undefined;
    await connection?.close();
  }
}
