import { RELAY_LIMITS, type ClientFrame, type ServerFrame } from '../shared/relay/protocol.ts';
import { sameBytes, tokenHash, verifyMoveNotice } from './auth.ts';
import { createBlob } from './blobs/create.ts';
import type { RelayBudgets } from './budgets.ts';
import { decodeBase64, errorFrame } from './frames.ts';
import { log } from './log.ts';
import type { RelaySettings } from './options.ts';
import type { ConnectionRegistry } from './registry.ts';
import type { Mailbox } from './storage.ts';

// The requests of an account connection (docs/relay-protocol.md#account-connection-frames):
// the logged-in device's own mailbox, keys and token. Each returns its one answer.

/** Who is logged in, and the relay's shared state. */
export interface AccountContext {
  /** The logged-in account and device; also this connection's mailbox. */
  readonly self: Mailbox;
  /** The identity key the account is bound to (serialized). */
  readonly identityKey: Uint8Array;
  readonly settings: RelaySettings;
  readonly registry: ConnectionRegistry;
  readonly budgets: RelayBudgets;
}

/** A frame only an account connection may send. */
export type AccountFrame = Extract<
  ClientFrame,
  {
    type: 'keys.publish' | 'keys.status' | 'token.set' | 'account.move' | 'ack' | 'blob.create';
  }
>;

/** Answers one account request; storage failures propagate (the caller answers RELAY_ERR_INTERNAL). */
export async function answerAccountRequest(
  frame: AccountFrame,
  context: AccountContext,
): Promise<ServerFrame> {
  const { storage, now } = context.settings;
  switch (frame.type) {
    case 'keys.publish':
      return publish(frame, context);
    case 'keys.status': {
      const ids = await storage.keyIds(context.self.accountId, context.self.deviceId);
      return { type: 'keys.status', id: frame.id, ...ids };
    }
    case 'token.set': {
      const token = decodeBase64(frame.token);
      if (token === undefined) return errorFrame('RELAY_ERR_MALFORMED', frame.id);
      await storage.setTokenHash(context.self.accountId, tokenHash(token));
      return { type: 'ok', id: frame.id };
    }
    case 'account.move':
      return move(frame, context, now());
    case 'ack': {
      const result = await storage.deleteAcked(context.self, frame.envelopeIds);
      if (result.kind === 'forbidden') return errorFrame('RELAY_ERR_FORBIDDEN', frame.id);
      for (const peer of context.registry.ofMailbox(context.self))
        peer.envelopesAcked(frame.envelopeIds);
      return { type: 'ok', id: frame.id };
    }
    case 'blob.create':
      return createBlob(frame, context.self, context.settings, context.budgets);
  }
}

async function publish(
  frame: Extract<AccountFrame, { type: 'keys.publish' }>,
  context: AccountContext,
): Promise<ServerFrame> {
  const { keys } = frame;
  // The identity key must be the bound one too: a bundle under another key
  // would only make peers distrust this account.
  const identityKey = decodeBase64(keys.identityKey);
  const own =
    keys.accountId === context.self.accountId &&
    keys.deviceId === context.self.deviceId &&
    identityKey !== undefined &&
    sameBytes(identityKey, context.identityKey);
  if (!own) return errorFrame('RELAY_ERR_FORBIDDEN', frame.id);
  const perFrame = RELAY_LIMITS.maxOneTimeKeysPerPublish;
  if (keys.oneTimePreKeys.length > perFrame || keys.oneTimeKyberPreKeys.length > perFrame)
    return errorFrame('RELAY_ERR_TOO_MANY_KEYS', frame.id);
  const { storage, now } = context.settings;
  const result = await storage.publishKeys(keys, now(), RELAY_LIMITS.maxStoredOneTimeKeys);
  if (result === 'too-many-keys') return errorFrame('RELAY_ERR_TOO_MANY_KEYS', frame.id);
  // The account moved after this connection logged in: a move through this node
  // evicts it soon, a move through another node does not close it at all.
  if (result === 'moved') return errorFrame('RELAY_ERR_ACCOUNT_MOVED', frame.id);
  return { type: 'ok', id: frame.id };
}

async function move(
  frame: Extract<AccountFrame, { type: 'account.move' }>,
  context: AccountContext,
  now: number,
): Promise<ServerFrame> {
  const { notice } = frame;
  const { storage } = context.settings;
  const from = await storage.account(notice.from);
  const valid =
    from !== undefined &&
    !from.moved &&
    verifyMoveNotice(notice, from.identityKey, context.self.accountId, context.identityKey);
  if (!valid) {
    log.info('account.move_refused');
    return errorFrame('RELAY_ERR_FORBIDDEN', frame.id);
  }
  await storage.markMoved(notice.from, now);
  for (const peer of context.registry.ofAccount(notice.from)) peer.evict();
  log.info('account.moved');
  return { type: 'ok', id: frame.id };
}
