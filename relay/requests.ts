import {
  LOW_KEY_THRESHOLD,
  RELAY_LIMITS,
  type ClientFrame,
  type OutgoingWireEnvelope,
  type ServerFrame,
} from '../shared/relay/protocol.ts';
import { decodeBase64, errorFrame } from './frames.ts';
import type { RelaySettings } from './options.ts';
import type { ConnectionRegistry } from './registry.ts';
import type { Mailbox, NewEnvelope, OneTimeKeyCounts } from './storage.ts';

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
    case 'send.batch':
      return sendBatch(frame, context);
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

type Stored =
  | { envelopeId: string }
  | { error: 'RELAY_ERR_MALFORMED' | 'RELAY_ERR_TOO_LARGE' | 'RELAY_ERR_MAILBOX_FULL' };

/**
 * Stores envelopes from this connection in one durable transaction and wakes
 * the recipients' connections. One result per envelope, in order.
 */
async function store(
  envelopes: readonly OutgoingWireEnvelope[],
  context: RequestContext,
): Promise<Stored[]> {
  const now = context.settings.now();
  const results: (Stored | undefined)[] = [];
  const accepted: NewEnvelope[] = [];
  const slots: number[] = [];
  for (const [index, envelope] of envelopes.entries()) {
    const body = decodeBase64(envelope.body);
    if (body === undefined) results[index] = { error: 'RELAY_ERR_MALFORMED' };
    else if (body.length > RELAY_LIMITS.maxEnvelopeBytes)
      results[index] = { error: 'RELAY_ERR_TOO_LARGE' };
    else {
      slots.push(index);
      accepted.push({
        from: context.self.accountId,
        fromDevice: context.self.deviceId,
        clientMessageId: envelope.clientMessageId,
        to: { accountId: envelope.to, deviceId: envelope.toDevice },
        ctype: envelope.ctype,
        body,
        receivedAt: now,
      });
    }
  }
  const stored =
    accepted.length > 0
      ? await context.settings.storage.storeEnvelopes(accepted, context.settings.mailboxQuota)
      : [];
  // Committed (synchronous=FULL) before this point, so the answer and the pushes are both safe.
  const woken = new Set<string>();
  for (const [i, result] of stored.entries()) {
    const index = slots[i]!;
    if (result.kind === 'mailbox-full') {
      results[index] = { error: 'RELAY_ERR_MAILBOX_FULL' };
      continue;
    }
    results[index] = { envelopeId: result.envelopeId };
    const to = accepted[i]!.to;
    const key = `${to.accountId}.${to.deviceId}`;
    if (result.kind === 'stored' && !woken.has(key)) {
      woken.add(key);
      for (const peer of context.registry.ofMailbox(to)) peer.envelopesArrived();
    }
  }
  return results.map((r) => r ?? { error: 'RELAY_ERR_MALFORMED' });
}

async function send(
  frame: Extract<RequestFrame, { type: 'send' }>,
  context: RequestContext,
): Promise<ServerFrame> {
  const [result] = await store([frame], context);
  if (!result || 'error' in result)
    return errorFrame(result?.error ?? 'RELAY_ERR_MALFORMED', frame.id);
  return { type: 'ok', id: frame.id, envelopeId: result.envelopeId };
}

async function sendBatch(
  frame: Extract<RequestFrame, { type: 'send.batch' }>,
  context: RequestContext,
): Promise<ServerFrame> {
  return { type: 'sent', id: frame.id, results: await store(frame.envelopes, context) };
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
