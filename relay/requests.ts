import {
  LOW_KEY_THRESHOLD,
  RELAY_LIMITS,
  type ClientFrame,
  type ServerFrame,
} from '../shared/relay/protocol.ts';
import { decodeBase64, errorFrame } from './frames.ts';
import type { RelaySettings } from './options.ts';
import type { ConnectionRegistry } from './registry.ts';
import type { Mailbox, OneTimeKeyCounts } from './storage.ts';

// The requests an authenticated connection may make (docs/relay-protocol.md#frames-after-ready).
// Each returns its one answer frame; effects on other connections go through the registry.

/** Who is asking, and the relay's shared state. */
export interface RequestContext {
  /** The authenticated account and device; also this connection's mailbox. */
  readonly self: Mailbox;
  /** The identity key the account is bound to (serialized). */
  readonly identityKey: Uint8Array;
  readonly settings: RelaySettings;
  readonly registry: ConnectionRegistry;
}

/** A request frame (everything a client sends after `ready`). */
export type RequestFrame = Exclude<ClientFrame, { type: 'hello' | 'auth' }>;

/** True when a device should be told to publish more one-time keys. */
export function keysAreLow(counts: OneTimeKeyCounts): boolean {
  return counts.preKeys < LOW_KEY_THRESHOLD || counts.kyberPreKeys < LOW_KEY_THRESHOLD;
}

/** Answers one request; storage failures propagate (the caller answers RELAY_ERR_INTERNAL). */
export async function answerRequest(
  frame: RequestFrame,
  context: RequestContext,
): Promise<ServerFrame> {
  switch (frame.type) {
    case 'keys.publish':
      return publish(frame, context);
    case 'keys.fetch':
      return fetch(frame, context);
    case 'send':
      return send(frame, context);
    case 'ack':
      return ack(frame, context);
    case 'ping':
      return { type: 'pong', id: frame.id, serverTime: context.settings.now() };
  }
}

async function publish(
  frame: Extract<RequestFrame, { type: 'keys.publish' }>,
  context: RequestContext,
): Promise<ServerFrame> {
  const { keys } = frame;
  // The identity key must be the bound one too: a bundle under another key
  // would only make peers distrust this account.
  const identityKey = decodeBase64(keys.identityKey);
  const own =
    keys.accountId === context.self.accountId &&
    keys.deviceId === context.self.deviceId &&
    identityKey !== undefined &&
    Buffer.from(identityKey).equals(context.identityKey);
  if (!own) return errorFrame('RELAY_ERR_FORBIDDEN', frame.id);
  await context.settings.storage.publishKeys(keys, context.settings.now());
  return { type: 'ok', id: frame.id };
}

async function fetch(
  frame: Extract<RequestFrame, { type: 'keys.fetch' }>,
  context: RequestContext,
): Promise<ServerFrame> {
  const owner: Mailbox = { accountId: frame.accountId, deviceId: frame.deviceId ?? 1 };
  const taken = await context.settings.storage.takeBundle(owner.accountId, owner.deviceId);
  if (taken === undefined) return errorFrame('RELAY_ERR_NO_KEYS', frame.id);
  if (keysAreLow(taken.remaining)) {
    for (const peer of context.registry.ofMailbox(owner)) peer.keysLow(taken.remaining);
  }
  return { type: 'bundle', id: frame.id, bundle: taken.bundle };
}

async function send(
  frame: Extract<RequestFrame, { type: 'send' }>,
  context: RequestContext,
): Promise<ServerFrame> {
  const body = decodeBase64(frame.body);
  if (body === undefined) return errorFrame('RELAY_ERR_MALFORMED', frame.id);
  if (body.length > RELAY_LIMITS.maxEnvelopeBytes)
    return errorFrame('RELAY_ERR_TOO_LARGE', frame.id);
  const to: Mailbox = { accountId: frame.to, deviceId: frame.toDevice };
  const result = await context.settings.storage.storeEnvelope(
    {
      from: context.self.accountId,
      fromDevice: context.self.deviceId,
      clientMessageId: frame.clientMessageId,
      to,
      ctype: frame.ctype,
      body,
      receivedAt: context.settings.now(),
    },
    context.settings.mailboxQuota,
  );
  if (result.kind === 'mailbox-full') return errorFrame('RELAY_ERR_MAILBOX_FULL', frame.id);
  // Committed (synchronous=FULL) before this point, so the ok and the push are both safe.
  if (result.kind === 'stored') {
    for (const peer of context.registry.ofMailbox(to)) peer.envelopesArrived();
  }
  return { type: 'ok', id: frame.id, envelopeId: result.envelopeId };
}

async function ack(
  frame: Extract<RequestFrame, { type: 'ack' }>,
  context: RequestContext,
): Promise<ServerFrame> {
  const result = await context.settings.storage.deleteAcked(context.self, frame.envelopeIds);
  if (result.kind === 'forbidden') return errorFrame('RELAY_ERR_FORBIDDEN', frame.id);
  for (const peer of context.registry.ofMailbox(context.self))
    peer.envelopesAcked(frame.envelopeIds);
  return { type: 'ok', id: frame.id };
}
