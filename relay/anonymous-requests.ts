import {
  LOW_KEY_THRESHOLD,
  RELAY_LIMITS,
  type ClientFrame,
  type SealedSubmission,
  type ServerFrame,
} from '../shared/relay/protocol.ts';
import {
  authorize,
  overBudget,
  refusalFrame,
  tokenThenBudget,
  wake,
  type AnonymousContext,
  type Refusal,
} from './anonymous-context.ts';
import { decodeBase64, errorFrame } from './frames.ts';
import { answerMultiSend } from './multi-send.ts';
import { arrivalOf } from './delivery.ts';
import type { Arrival, Mailbox, NewEnvelope, OneTimeKeyCounts } from './storage.ts';

// The requests of an anonymous connection (docs/relay-protocol.md#anonymous-connection-frames):
// sealed sends and bundle fetches, each authorized by the recipient's delivery
// token. Nothing here knows or records who is sending.

/** A frame only an anonymous connection may send. */
export type AnonymousFrame = Extract<
  ClientFrame,
  { type: 'keys.fetch' | 'send' | 'send.batch' | 'send.multi' }
>;

/** True for the frames only an anonymous connection may send. */
export function isAnonymousFrame(frame: ClientFrame): frame is AnonymousFrame {
  return (
    frame.type === 'keys.fetch' ||
    frame.type === 'send' ||
    frame.type === 'send.batch' ||
    frame.type === 'send.multi'
  );
}

/** True when a device should be told to publish more one-time keys. */
export function keysAreLow(counts: OneTimeKeyCounts): boolean {
  return counts.preKeys < LOW_KEY_THRESHOLD || counts.kyberPreKeys < LOW_KEY_THRESHOLD;
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
    case 'send.multi':
      return answerMultiSend(frame, context);
  }
}

async function fetchBundle(
  frame: Extract<AnonymousFrame, { type: 'keys.fetch' }>,
  context: AnonymousContext,
): Promise<ServerFrame> {
  const owner: Mailbox = { accountId: frame.accountId, deviceId: frame.deviceId };
  const refusal =
    overBudget(context.budgets.fetchFrom(context.address)) ??
    (await authorize(owner.accountId, frame.token, context)) ??
    overBudget(await context.budgets.fetchOf(owner));
  if (refusal) return refusalFrame(refusal, frame.id);
  const { storage, now } = context.settings;
  const taken = await storage.takeBundle(owner.accountId, owner.deviceId, now());
  if (taken === undefined) return errorFrame('RELAY_ERR_NO_KEYS', frame.id);
  if (keysAreLow(taken.remaining)) {
    for (const peer of context.registry.ofMailbox(owner)) peer.keysLow(taken.remaining);
  }
  return { type: 'bundle', id: frame.id, bundle: taken.bundle };
}

type Stored = { readonly envelopeId: string } | Refusal;

/**
 * Source budget, size, token, destination budget: the first refusal of one
 * envelope, or the token hash its store re-checks (delivery-tokens.ts).
 */
async function check(
  submission: SealedSubmission,
  body: Uint8Array,
  context: AnonymousContext,
): Promise<Refusal | { readonly tokenHash: Uint8Array }> {
  const to: Mailbox = { accountId: submission.to, deviceId: submission.toDevice };
  const early =
    overBudget(context.budgets.submit(context.budget, context.address, body.length)) ??
    (body.length > RELAY_LIMITS.maxEnvelopeBytes ? { error: 'RELAY_ERR_TOO_LARGE' } : undefined);
  if (early) return early;
  return await tokenThenBudget(submission.to, submission.token, context, async () =>
    overBudget(await context.budgets.deliver([to], body.length)),
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
    const checked = await check(submission, body, context);
    results[index] = 'error' in checked ? checked : { error: 'RELAY_ERR_INTERNAL' };
    if ('error' in checked) continue;
    slots.push(index);
    accepted.push({
      clientMessageId: submission.clientMessageId,
      to: { accountId: submission.to, deviceId: submission.toDevice },
      body,
      receivedAt,
      tokenHash: checked.tokenHash,
    });
  }
  if (accepted.length === 0) return results;
  const stored = await storage.storeEnvelopes(accepted, { mailboxQuota, maxStorageBytes });
  // Committed (synchronous=FULL) before this point, so the answer and the pushes are both safe.
  const arrived: Arrival[] = [];
  for (const [i, result] of stored.entries()) {
    const index = slots[i]!;
    if (result.kind === 'bad-token' || result.kind === 'moved')
      results[index] = { error: context.tokens.refused(accepted[i]!.to.accountId, result.kind) };
    else if (result.kind === 'mailbox-full') results[index] = { error: 'RELAY_ERR_MAILBOX_FULL' };
    else if (result.kind === 'storage-full') results[index] = { error: 'RELAY_ERR_STORAGE_FULL' };
    else {
      results[index] = { envelopeId: result.envelopeId };
      if (result.kind === 'stored') arrived.push(arrivalOf(accepted[i]!, result));
    }
  }
  wake(arrived, context);
  return results;
}
