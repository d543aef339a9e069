import { ContentHint } from '@signalapp/libsignal-client';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { contactRoute } from '../contacts/tokens.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting } from '../profile/settings.ts';
import type { BundleRequest, SealedSubmission } from '../sync/relay.ts';
import { type OutboxScope, PARKED, REACHABLE, RECIPIENT_DEVICE, scopeSql } from './outbox-scope.ts';
import { seal } from './sealed.ts';
import { hasSession } from './session.ts';

// The send side of the outbox: which bundles to fetch, and encrypted entries
// sealed for their recipients (docs/message-format.md#sealed-envelopes).

/** An encrypted outbox entry: the inner Signal message, before sealing. */
export interface OutgoingEnvelope {
  readonly outboxId: number;
  readonly kind: 'message' | 'receipt' | 'token' | 'group';
  readonly clientMessageId: string;
  readonly recipient: AccountId;
  readonly recipientDevice: number;
  /** libsignal CiphertextMessageType: 3 PreKey (session start), 2 Whisper. */
  readonly type: number;
  readonly body: Uint8Array;
}

/** An outbox entry sealed for its recipient, ready for `Relay.sendBatch` on `relay`. */
export interface ReadyEnvelope {
  readonly outboxId: number;
  /** The recipient's relay (from their invite; this profile's own relay if none). */
  readonly relay: string;
  /** That relay's id as their invite pinned it, if it did. */
  readonly relayId: string | null;
  readonly submission: SealedSubmission;
}

/** Where a contact is reached: their relay, else this profile's own. */
function routeOf(profile: Profile, accountId: string) {
  const route = contactRoute(profile.db, accountId);
  const relay = route.relay ?? getSetting(profile.db, 'relay');
  return relay && route.token && !route.blocked
    ? { relay, relayId: route.relayId, token: route.token }
    : undefined;
}

/** Recipients with queued content and no session: whom to fetch a bundle for, on which relay, with which token. */
export function bundleRequestsNeeded(
  profile: Profile,
  scope: OutboxScope = 'all',
): { readonly relay: string; readonly relayId: string | null; readonly request: BundleRequest }[] {
  const recipients = profile.db
    .prepare(
      `SELECT DISTINCT recipient FROM outbox
       WHERE ciphertext IS NULL AND next_attempt_at < ${PARKED} AND ${REACHABLE} ${scopeSql(scope)}`,
      { pluck: true },
    )
    .all<AccountId>();
  return recipients.flatMap((accountId) => {
    const route = hasSession(profile, accountId, RECIPIENT_DEVICE)
      ? undefined
      : routeOf(profile, accountId);
    if (!route) return [];
    const request = { accountId, deviceId: RECIPIENT_DEVICE, token: route.token };
    return [{ relay: route.relay, relayId: route.relayId, request }];
  });
}

/**
 * Encrypted entries due now, not yet acknowledged by a relay, in send order:
 * the inner Signal messages, before sealing (what `sealReady` seals; tests and
 * the unsealed bench baseline use them directly).
 */
export function readyEnvelopes(
  profile: Profile,
  limit = 500,
  scope: OutboxScope = 'all',
  excludeRecipients: readonly string[] = [],
  now = Date.now(),
): OutgoingEnvelope[] {
  // Excluded in SQL, so recipients held back this pass cannot fill the page.
  const excluded =
    excludeRecipients.length > 0
      ? `AND recipient NOT IN (${excludeRecipients.map(() => '?').join(', ')})`
      : '';
  return profile.db
    .prepare(
      `SELECT id, kind, client_message_id, recipient, recipient_device, ciphertext_type, ciphertext
       FROM outbox WHERE ciphertext IS NOT NULL AND next_attempt_at <= ? AND ${REACHABLE} ${scopeSql(scope)} ${excluded}
       ORDER BY id LIMIT ?`,
    )
    .all<{
      id: number;
      kind: OutgoingEnvelope['kind'];
      client_message_id: string;
      recipient: AccountId;
      recipient_device: number;
      ciphertext_type: number;
      ciphertext: Uint8Array<ArrayBuffer>;
    }>([now, ...excludeRecipients, limit])
    .map((row) => ({
      outboxId: row.id,
      kind: row.kind,
      clientMessageId: row.client_message_id,
      recipient: row.recipient,
      recipientDevice: row.recipient_device,
      type: row.ciphertext_type,
      body: row.ciphertext,
    }));
}

/**
 * Encrypted outbox entries due now, each sealed for its recipient with a fresh
 * self-issued sender certificate. Sealing reads keys only (no session state),
 * so it happens at send time and a certificate never outlives a long offline
 * period. Blocked recipients and those whose token is unknown are skipped.
 */
export async function sealReady(
  profile: Profile,
  limit: number,
  scope: OutboxScope,
  excludeRecipients: readonly string[],
  now = Date.now(),
): Promise<ReadyEnvelope[]> {
  const envelopes = readyEnvelopes(profile, limit, scope, excludeRecipients, now);
  const identityStore = new ProtocolTransaction(profile.state).identityStore;
  const routes = new Map<string, ReturnType<typeof routeOf>>();
  const ready: ReadyEnvelope[] = [];
  for (const envelope of envelopes) {
    if (!routes.has(envelope.recipient))
      routes.set(envelope.recipient, routeOf(profile, envelope.recipient));
    const route = routes.get(envelope.recipient);
    if (!route) continue;
    const body = await seal(
      profile,
      identityStore,
      { accountId: envelope.recipient, deviceId: envelope.recipientDevice },
      {
        type: envelope.type,
        body: envelope.body,
        contentHint: envelope.kind === 'message' ? ContentHint.Default : ContentHint.Implicit,
      },
      now,
    );
    ready.push({
      outboxId: envelope.outboxId,
      relay: route.relay,
      relayId: route.relayId,
      submission: {
        clientMessageId: envelope.clientMessageId,
        recipient: envelope.recipient,
        recipientDevice: envelope.recipientDevice,
        token: route.token,
        body,
      },
    });
  }
  return ready;
}
