import {
  CiphertextMessageType,
  ContentHint,
  LibSignalErrorBase,
  sealedSenderMultiRecipientEncrypt,
} from '@signalapp/libsignal-client';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import { hasCode, SottoError } from '../errors.ts';
import { peerAddress } from '../messaging/addresses.ts';
import { MAX_SEND_REFUSALS } from '../messaging/refusals.ts';
import { senderCertificate } from '../messaging/sealed.ts';
import { hasSession } from '../messaging/session.ts';
import { unidentifiedContent } from '../messaging/usmc.ts';
import type { Profile } from '../profile/profile.ts';
import { TRY_LATER_CODES, UNSENT } from '../sync/relay-failure.ts';
import type { Relay } from '../sync/relay.ts';
import { settleIfDone } from './group-queue.ts';

// Handing encrypted group messages to relays: the one SenderKeyMessage is
// sealed once per relay with sealed sender v2 (a fresh certificate, the
// group id in the USMC) for the members on that relay, and stored there
// with one multi-recipient send. A member gets it only once the pairwise
// contents queued for them before it (their copy of our chain) have left:
// otherwise they could not decrypt it.

const SHARE_REFUSALS: ReadonlySet<string> = new Set([
  'RELAY_REFUSED',
  'RELAY_ADDRESS_REFUSED',
  'INSECURE_RELAY',
  'INVALID_INPUT',
]);

type WaitingRow = {
  account_id: AccountId;
  /** null: no longer a current member. */
  relay: string | null;
  relay_id: string | null;
  delivery_token: Uint8Array<ArrayBuffer> | null;
  pending: number;
};

/** The members of one relay waiting for one message. */
type Share = {
  relay: string;
  relayId: string;
  members: { accountId: AccountId; token: Uint8Array<ArrayBuffer> }[];
};

/** Relay clients, as the 1:1 send pass gets them. */
export interface GroupSendContext {
  relay(address: string, relayId: string | null): Relay;
  readonly backoff: Map<string, number>;
}

/** Sends every encrypted group message to the members still waiting for it; returns how many relay sends stored something. */
export async function sendGroupOutbox(
  profile: Profile,
  context: GroupSendContext,
  now = Date.now(),
): Promise<number> {
  const db = profile.db;
  const rows = db
    .prepare(
      `SELECT id, client_message_id, group_ref, ciphertext FROM group_outbox
       WHERE ciphertext IS NOT NULL AND next_attempt_at <= ? ORDER BY id`,
    )
    .all<{
      id: number;
      client_message_id: string;
      group_ref: number;
      ciphertext: Uint8Array<ArrayBuffer>;
    }>([now]);
  const tx = new ProtocolTransaction(profile.state);
  const groupIdOf = db.prepare('SELECT group_id FROM groups WHERE id = ?', { pluck: true });
  // The members still waiting, with what their relay share needs, in one query (a
  // 1,000-member group used to cost a full group load and two lookups per member).
  const waitingMembers = db.prepare(
    `SELECT r.account_id, m.relay, m.relay_id, m.delivery_token,
       EXISTS (SELECT 1 FROM outbox o WHERE o.recipient = r.account_id AND o.kind = 'group') AS pending
     FROM group_outbox_recipients r
     LEFT JOIN group_members m
       ON m.group_ref = ? AND m.account_id = r.account_id AND m.state = 'member'
     WHERE r.outbox_id = ? ORDER BY r.account_id`,
  );
  let stored = 0;
  for (const row of rows) {
    const groupId = groupIdOf.get<Uint8Array<ArrayBuffer>>([row.group_ref]);
    if (!groupId) continue;
    const waiting = waitingMembers.all<WaitingRow>([row.group_ref, row.id]);
    const byRelay = new Map<string, Share>();
    const gone: string[] = [];
    for (const member of waiting) {
      // Removed since the message was encrypted: it is not for them any more.
      if (member.relay === null || member.delivery_token === null) {
        gone.push(member.account_id);
        continue;
      }
      // Their copy of our chain has not left yet (they could not decrypt), or no session to seal to.
      if (member.pending || !hasSession(profile, member.account_id, 1)) continue;
      const relayId = member.relay_id ?? '';
      const key = `${member.relay}\n${relayId}`;
      if ((context.backoff.get(key) ?? 0) > now) continue;
      const share = byRelay.get(key) ?? { relay: member.relay, relayId, members: [] };
      share.members.push({ accountId: member.account_id, token: member.delivery_token });
      byRelay.set(key, share);
    }
    const done: string[] = [...gone];
    let refused = false;
    for (const share of byRelay.values()) {
      const content = unidentifiedContent(
        CiphertextMessageType.SenderKey,
        row.ciphertext,
        senderCertificate(profile, now),
        ContentHint.Resendable,
        groupId,
      );
      let results: Map<AccountId, string | undefined>;
      try {
        const body = await sealedSenderMultiRecipientEncrypt(
          content,
          share.members.map((m) => peerAddress(m.accountId, 1)),
          tx.identityStore,
          tx.sessionStore,
        );
        results = await context.relay(share.relay, share.relayId).sendMulti({
          clientMessageId: row.client_message_id,
          body,
          recipients: share.members,
        });
      } catch (error) {
        if (hasCode(error, 'RELAY_UNAVAILABLE')) continue;
        // A member card naming a relay we may not use (a hostile admin's), or a key libsignal
        // refuses, costs that relay's share of this message: never the whole send pass.
        if (
          (error instanceof SottoError && SHARE_REFUSALS.has(error.code)) ||
          error instanceof LibSignalErrorBase
        ) {
          refused = true;
          continue;
        }
        throw error;
      }
      stored++;
      for (const [accountId, result] of results) {
        if (result === undefined) done.push(accountId);
        // UNSENT: the connection failed after earlier frames were stored; not a refusal, the next pass sends it.
        else if (result !== UNSENT && !TRY_LATER_CODES.has(result)) refused = true;
      }
    }
    profile.commit(undefined, (w) => {
      const remove = w.prepare(
        'DELETE FROM group_outbox_recipients WHERE outbox_id = ? AND account_id = ?',
      );
      for (const accountId of done) remove.run([row.id, accountId]);
      if (refused) {
        // A relay that keeps refusing (a stale token, a full mailbox): after MAX_SEND_REFUSALS the rest are given up.
        const { attempts } = w
          .prepare(
            'UPDATE group_outbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts',
          )
          .get<{ attempts: number }>([row.id])!;
        if (attempts >= MAX_SEND_REFUSALS) {
          w.prepare('DELETE FROM group_outbox_recipients WHERE outbox_id = ?').run([row.id]);
          w.prepare(
            "UPDATE group_messages SET status = 'failed' WHERE id = (SELECT message_id FROM group_outbox WHERE id = ?)",
          ).run([row.id]);
          w.prepare('DELETE FROM group_outbox WHERE id = ?').run([row.id]);
          return;
        }
      }
      settleIfDone(w, row.id);
    });
  }
  return stored;
}
