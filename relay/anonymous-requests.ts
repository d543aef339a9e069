import type { AccountId } from '../shared/protocol/account-id.ts';
import {
  LOW_KEY_THRESHOLD,
  RELAY_LIMITS,
  type ClientFrame,
  type RelayErrorCode,
  type SealedSubmission,
  type ServerFrame,
} from '../shared/relay/protocol.ts';
import { sameBytes, tokenHash } from './auth.ts';
import type { ConnectionBudget, RelayBudgets } from './budgets.ts';
import { decodeBase64, errorFrame } from './frames.ts';
import type { RelaySettings } from './options.ts';
import type { ConnectionRegistry } from './registry.ts';
import type { Mailbox, NewEnvelope, OneTimeKeyCounts } from './storage.ts';
import type { Take } from './token-bucket.ts';

// The requests of an anonymous connection (docs/relay-protocol.md#anonymous-connection-frames):
// sealed sends and bundle fetches, each authorized by the recipient's delivery
// token. Nothing here knows or records who is sending.

/** The connection's source (address and budgets), and the relay's shared state. */
export interface AnonymousContext {
  /** The client's address, only as a budget key (never stored or logged). */
  readonly address: string;
  readonly budget: ConnectionBudget;
  readonly budgets: RelayBudgets;
  readonly settings: RelaySettings;
  readonly registry: ConnectionRegistry;
}

/** A frame only an anonymous connection may send. */
export type AnonymousFrame = Extract<ClientFrame, { type: 'keys.fetch' | 'send' | 'send.batch' }>;

/** True when a device should be told to publish more one-time keys. */
export function keysAreLow(counts: OneTimeKeyCounts): boolean {
  return counts.preKeys < LOW_KEY_THRESHOLD || counts.kyberPreKeys < LOW_KEY_THRESHOLD;
}

/** A refusal of one envelope or request, with the retry hint of budget refusals. */
interface Refusal {
  readonly error: RelayErrorCode;
  readonly retryAfterMs?: number;
}

function overBudget(verdict: Take): Refusal | undefined {
  return verdict.ok ? undefined : { error: 'RELAY_ERR_OVER_BUDGET', retryAfterMs: verdict.retryAfterMs };
}

function refusalFrame(refusal: Refusal, id: number): ServerFrame {
  return {
    ...errorFrame(refusal.error, id),
    ...(refusal.retryAfterMs === undefined ? {} : { retryAfterMs: refusal.retryAfterMs }),
  };
}

/** Answers one anonymous request; storage failures propagate (the caller answers RELAY_ERR_INTERNAL). */
export async function answerAnonymousRequest(
  frame: AnonymousFrame,
  context: AnonymousContext,
): Promise<ServerFrame> {
  switch (frame.type) {
    case 'keys.fetch':
      return fetchBundle(frame, context);
    case 'send': {
      const [result] = await store([frame.envelope], context);
      if (result === undefined || 'error' in result)
        return refusalFrame(result ?? { error: 'RELAY_ERR_INTERNAL' }, frame.id);
      return { type: 'ok', id: frame.id, envelopeId: result.envelopeId };
    }
    case 'send.batch': {
      const results = await store(frame.envelopes, context);
      return {
        type: 'sent',
        id: frame.id,
        results: results.map((r) => ('error' in r ? { error: r.error } : r)),
      };
    }
  }
}

/**
 * Whether `token` (base64) opens the account's mailbox. One refusal for a
 * wrong token, no token registered and an unknown account, so a stranger
 * cannot probe which accounts exist; only a token holder learns of a move.
 */
async function authorize(
  accountId: AccountId,
  token: string,
  context: AnonymousContext,
): Promise<Refusal | undefined> {
  const account = await context.settings.storage.account(accountId);
  const bytes = decodeBase64(token);
  if (account?.tokenHash === undefined || bytes === undefined) return { error: 'RELAY_ERR_BAD_TOKEN' };
  if (!sameBytes(account.tokenHash, tokenHash(bytes))) return { error: 'RELAY_ERR_BAD_TOKEN' };
  return account.moved ? { error: 'RELAY_ERR_ACCOUNT_MOVED' } : undefined;
}

async function fetchBundle(
  frame: Extract<AnonymousFrame, { type: 'keys.fetch' }>,
  context: AnonymousContext,
): Promise<ServerFrame> {
  const owner: Mailbox = { accountId: frame.accountId, deviceId: frame.deviceId };
  const refusal =
    overBudget(context.budgets.fetchFrom(context.address)) ??
    (await authorize(owner.accountId, frame.token, context)) ??
    overBudget(context.budgets.fetchOf(owner));
  if (refusal) return refusalFrame(refusal, frame.id);
  const taken = await context.settings.storage.takeBundle(owner.accountId, owner.deviceId);
  if (taken === undefined) return errorFrame('RELAY_ERR_NO_KEYS', frame.id);
  if (keysAreLow(taken.remaining)) {
    for (const peer of context.registry.ofMailbox(owner)) peer.keysLow(taken.remaining);
  }
  return { type: 'bundle', id: frame.id, bundle: taken.bundle };
}

type Stored = { readonly envelopeId: string } | Refusal;

/** Source budget, size, token, destination budget: the first refusal of one envelope, if any. */
async function check(
  submission: SealedSubmission,
  body: Uint8Array,
  context: AnonymousContext,
): Promise<Refusal | undefined> {
  const to: Mailbox = { accountId: submission.to, deviceId: submission.toDevice };
  return (
    overBudget(context.budgets.submit(context.budget, context.address, body.length)) ??
    (body.length > RELAY_LIMITS.maxEnvelopeBytes ? { error: 'RELAY_ERR_TOO_LARGE' } : undefined) ??
    (await authorize(submission.to, submission.token, context)) ??
    overBudget(context.budgets.deliver(to, body.length))
  );
}

/**
 * Checks each submission, stores the accepted ones in one durable transaction
 * and wakes the recipients' connections. One result per submission, in order.
 */
async function store(
  submissions: readonly SealedSubmission[],
  context: AnonymousContext,
): Promise<Stored[]> {
  const { storage, now, mailboxQuota, maxStorageBytes } = context.settings;
  const receivedAt = now();
  const results: Stored[] = [];
  const accepted: NewEnvelope[] = [];
  const slots: number[] = [];
  for (const [index, submission] of submissions.entries()) {
    // The schema admits only padded base64, so this decodes.
    const body = decodeBase64(submission.body) ?? new Uint8Array();
    const refusal = await check(submission, body, context);
    results[index] = refusal ?? { error: 'RELAY_ERR_INTERNAL' };
    if (refusal) continue;
    slots.push(index);
    accepted.push({
      clientMessageId: submission.clientMessageId,
      to: { accountId: submission.to, deviceId: submission.toDevice },
      body,
      receivedAt,
    });
  }
  if (accepted.length === 0) return results;
  const stored = await storage.storeEnvelopes(accepted, { mailboxQuota, maxStorageBytes });
  // Committed (synchronous=FULL) before this point, so the answer and the pushes are both safe.
  const woken = new Set<string>();
  for (const [i, result] of stored.entries()) {
    const index = slots[i]!;
    if (result.kind === 'mailbox-full') results[index] = { error: 'RELAY_ERR_MAILBOX_FULL' };
    else if (result.kind === 'storage-full') results[index] = { error: 'RELAY_ERR_STORAGE_FULL' };
    else {
      results[index] = { envelopeId: result.envelopeId };
      const to = accepted[i]!.to;
      const key = `${to.accountId}.${to.deviceId}`;
      if (result.kind === 'stored' && !woken.has(key)) {
        woken.add(key);
        for (const peer of context.registry.ofMailbox(to)) peer.envelopesArrived();
      }
    }
  }
  return results;
}
