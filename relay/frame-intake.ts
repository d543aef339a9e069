import type WebSocket from 'ws';
import type { ClientFrame, ServerFrame } from '../shared/relay/protocol.ts';
import { decodeClientFrame, errorFrame, requestIdOf } from './frames.ts';
import { log } from './log.ts';
import type { FrameRateLimiter } from './rate-limit.ts';

// The first look at each WebSocket message a connection reads: counted
// against its frame rate, then parsed. connection.ts queues what comes out
// (a frame to handle, or the refusal to send) behind the frames before it.

/** What one message becomes: a frame to handle, or a refusal (and whether the connection ends with it). */
export type Intake =
  | { readonly kind: 'frame'; readonly frame: ClientFrame; readonly id: number | undefined }
  /** Unparseable: answered with the error, which closes the connection (frames.ts closeCodeAfter). */
  | { readonly kind: 'malformed'; readonly answer: ServerFrame }
  /** Over the frame rate: refused with a retry hint; `close` after too many in a row. */
  | { readonly kind: 'rate-limited'; readonly answer: ServerFrame; readonly close: boolean };

/** Counts `data` against `limiter` and parses it (docs/relay-protocol.md#errors). */
export function takeFrame(
  limiter: FrameRateLimiter,
  data: WebSocket.RawData,
  isBinary: boolean,
): Intake {
  const rate = limiter.hit();
  const incoming = decodeClientFrame(data, isBinary);
  if (!incoming.ok) {
    log.info('conn.bad_frame', {
      binary: isBinary,
      unknownType: incoming.code === 'RELAY_ERR_UNKNOWN_TYPE',
      version: incoming.code === 'RELAY_ERR_UNSUPPORTED_VERSION',
    });
    return { kind: 'malformed', answer: errorFrame(incoming.code, incoming.id) };
  }
  const id = requestIdOf(incoming.frame);
  if (rate === 'accept') return { kind: 'frame', frame: incoming.frame, id };
  log.info('conn.rate_limited', { closing: rate === 'close' });
  const answer = {
    ...errorFrame('RELAY_ERR_RATE_LIMITED', id),
    retryAfterMs: limiter.retryAfterMs(),
  };
  return { kind: 'rate-limited', answer: answer as ServerFrame, close: rate === 'close' };
}
