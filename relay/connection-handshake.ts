import { randomBytes } from 'node:crypto';
import {
  RELAY_PROTOCOL_VERSION,
  type ClientFrame,
  type ServerFrame,
} from '../shared/relay/protocol.ts';
import type { RelayErrorCode } from '../shared/relay/relay-errors.ts';
import { keysAreLow } from './anonymous-requests.ts';
import { verifyAuth } from './auth.ts';
import { encodeBase64 } from './frames.ts';
import { log } from './log.ts';
import type { RelaySettings } from './options.ts';
import type { Mailbox, OneTimeKeyCounts, RelayStorage } from './storage.ts';

// The handshake of one connection (docs/relay-protocol.md#handshake), apart
// from the connection's state: the challenge, what a `hello` asks for,
// whether an `auth` proves it, and what an account connection is told once
// it is ready. connection.ts keeps the phase and moves between phases.

const NONCE_BYTES = 32;

export type Hello = Extract<ClientFrame, { type: 'hello' }>;
export type Auth = Extract<ClientFrame, { type: 'auth' }>;

/** A fresh nonce for one connection's challenge: what its `auth` must sign. */
export function newNonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

/** The first frame of every connection: this relay's id and the connection's nonce. */
export function challengeFrame(
  settings: Pick<RelaySettings, 'storage' | 'now'>,
  nonce: Uint8Array,
): ServerFrame {
  return {
    type: 'challenge',
    protocol: RELAY_PROTOCOL_VERSION,
    relayId: settings.storage.relayId,
    nonce: encodeBase64(nonce),
    serverTime: settings.now(),
  };
}

/** A hello for an account connection: it names the mailbox the `auth` must prove. */
export type AccountHello = Hello & Mailbox;

/** What a hello asks for: an anonymous connection, a login to come, or nothing this relay gives. */
export type HelloRequest =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'account'; readonly hello: AccountHello }
  | { readonly kind: 'refused'; readonly code: RelayErrorCode };

/** Reads a hello; on a protocol-1 path (`legacy`) every hello is UNSUPPORTED_VERSION. */
export function readHello(frame: Hello, legacy: boolean): HelloRequest {
  if (legacy) return { kind: 'refused', code: 'RELAY_ERR_UNSUPPORTED_VERSION' };
  const { accountId, deviceId } = frame;
  if (frame.mode === 'anonymous') {
    if (accountId !== undefined || deviceId !== undefined)
      return { kind: 'refused', code: 'RELAY_ERR_MALFORMED' };
    return { kind: 'anonymous' };
  }
  if (accountId === undefined || deviceId === undefined)
    return { kind: 'refused', code: 'RELAY_ERR_MALFORMED' };
  return { kind: 'account', hello: { ...frame, accountId, deviceId } };
}

/** A login's outcome: the mailbox and its bound identity key, or the code it is refused with. */
export type LoginResult =
  | { readonly kind: 'ok'; readonly self: Mailbox; readonly identityKey: Uint8Array }
  | { readonly kind: 'refused'; readonly code: RelayErrorCode };

/** Checks `auth` against the hello it follows and this connection's challenge `nonce`. */
export async function checkLogin(
  settings: Pick<RelaySettings, 'storage' | 'now'>,
  nonce: Uint8Array,
  hello: AccountHello,
  auth: Auth,
): Promise<LoginResult> {
  const attempt = { ...hello, identityKey: auth.identityKey, signature: auth.signature };
  const result = await verifyAuth(settings.storage, nonce, attempt, settings.now());
  if (result.kind !== 'ok') {
    log.info('conn.auth_failed', { moved: result.kind === 'moved' });
    const code = result.kind === 'moved' ? 'RELAY_ERR_ACCOUNT_MOVED' : 'RELAY_ERR_AUTH_FAILED';
    return { kind: 'refused', code };
  }
  const self: Mailbox = { accountId: hello.accountId, deviceId: hello.deviceId };
  return { kind: 'ok', self, identityKey: result.identityKey };
}

/**
 * Tells a logged-in connection it is ready, with the number of envelopes
 * waiting, then whether its one-time keys are low; pushes start after this.
 */
export async function announceAccountReady(
  storage: RelayStorage,
  self: Mailbox,
  send: (frame: ServerFrame) => void,
  keysLow: (counts: OneTimeKeyCounts) => void,
): Promise<void> {
  const queued = await storage.countQueued(self);
  send({
    type: 'ready',
    mode: 'account',
    accountId: self.accountId,
    deviceId: self.deviceId,
    queued,
  });
  const counts = await storage.oneTimeKeyCounts(self.accountId, self.deviceId);
  if (counts !== undefined && keysAreLow(counts)) keysLow(counts);
}
