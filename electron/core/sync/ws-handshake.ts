import WebSocket from 'ws';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  authMessage,
  RELAY_LIMITS,
  RELAY_PROTOCOL_VERSION,
  type RelayId,
  type ServerFrame,
  serverFrameSchema,
} from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import { RELAY_ID_MISMATCH, RelayUnavailableError, relayFailure } from './relay-failure.ts';
import type { RelayIdPin, RelayLogin } from './ws-connection.ts';

// The opening of a protocol-2 connection (docs/relay-protocol.md#handshake):
// the relay's challenge, its relay id checked against the pin before anything
// is signed, the hello (and for an account connection the signed login), up
// to `ready`. Any other frame, an error or a timeout fails the handshake and
// closes the socket.

/**
 * Opens `<address>/v2` and runs the handshake; at `ready` hands the socket,
 * the relay id and the queued count to `ready` (in the same event, so no frame
 * is missed) and resolves with what it returns.
 */
export function handshake<T>(
  address: string,
  login: RelayLogin,
  pin: RelayIdPin,
  timeout: number,
  ready: (socket: WebSocket, relayId: RelayId, queued: number) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const socket = new WebSocket(`${address}/v${RELAY_PROTOCOL_VERSION}`, {
      maxPayload: RELAY_LIMITS.maxFrameBytes,
      handshakeTimeout: timeout,
    });
    let settled = false;
    let relayId: RelayId | undefined;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.terminate();
      reject(error);
    };
    const timer = setTimeout(() => fail(new RelayUnavailableError('handshake timed out')), timeout);
    socket.on('error', () => fail(new RelayUnavailableError('connect failed')));
    socket.on('close', () => fail(new RelayUnavailableError('closed during handshake')));
    const onHandshake = (data: WebSocket.RawData, isBinary: boolean) => {
      const frame = isBinary ? undefined : parseFrame(data);
      if (!frame) return fail(new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED'));
      if (frame.type === 'challenge' && relayId === undefined) {
        if (frame.protocol !== RELAY_PROTOCOL_VERSION)
          return fail(new SottoError('RELAY_REFUSED', 'RELAY_ERR_UNSUPPORTED_VERSION'));
        const pinned = pin.expected();
        // Checked before anything is signed: a login must never reach a relay other than the pinned one.
        if (pinned !== undefined && pinned !== frame.relayId)
          return fail(new SottoError('RELAY_REFUSED', RELAY_ID_MISMATCH));
        relayId = frame.relayId;
        sendHello(socket, login, frame.relayId, fromBase64(frame.nonce));
      } else if (frame.type === 'ready' && relayId !== undefined && frame.mode === login.mode) {
        try {
          // Pinned at the first successful connection (after init or a relay change).
          if (pin.expected() === undefined) pin.remember?.(relayId);
        } catch (error) {
          return fail(error instanceof Error ? error : new SottoError('INTERNAL'));
        }
        settled = true;
        clearTimeout(timer);
        socket.off('message', onHandshake);
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        // Synchronously, in this message's event: frames that follow `ready` in the same read
        // must find the connection's listener in place.
        resolve(ready(socket, relayId, frame.queued ?? 0));
      } else if (frame.type === 'error') {
        fail(relayFailure(frame.code, frame.retryAfterMs));
      } else if (frame.type !== 'keys.low') {
        fail(new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED'));
      }
    };
    socket.on('message', onHandshake);
  });
}

function sendHello(
  socket: WebSocket,
  login: RelayLogin,
  relayId: RelayId,
  nonce: Uint8Array,
): void {
  if (login.mode === 'anonymous') {
    socket.send(
      JSON.stringify({ type: 'hello', protocol: RELAY_PROTOCOL_VERSION, mode: 'anonymous' }),
    );
    return;
  }
  const { accountId, deviceId, identityKey } = login.identity;
  const signature = login.identity.sign(authMessage(relayId, nonce, accountId, deviceId));
  socket.send(
    JSON.stringify({
      type: 'hello',
      protocol: RELAY_PROTOCOL_VERSION,
      mode: 'account',
      accountId,
      deviceId,
    }),
  );
  socket.send(
    JSON.stringify({
      type: 'auth',
      identityKey: toBase64(identityKey),
      signature: toBase64(signature),
    }),
  );
}

/** A text frame from the relay as the schema reads it; undefined if it is not JSON or matches no frame. */
export function parseFrame(data: WebSocket.RawData): ServerFrame | undefined {
  try {
    const buffer = Buffer.isBuffer(data)
      ? data
      : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    const parsed = serverFrameSchema.safeParse(JSON.parse(buffer.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
