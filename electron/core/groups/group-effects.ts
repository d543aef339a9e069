import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import type { GroupMember, GroupSnapshot } from '../../../shared/protocol/group.ts';
import { ownDeliveryToken } from '../contacts/tokens.ts';
import type { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import { receivedDisplayName } from '../profile/display-name.ts';
import type { Profile } from '../profile/profile.ts';
import { homeRelayId, homeRelaySetting } from '../sync/home-relay-setting.ts';

// What a membership change does beyond the group's own rows: members become
// reachable (a contact row with their relay and token, their key pinned) and
// a departure resets this device's sender-key chain at once, so nobody who
// left can read what is sent after (docs/architecture.md#groups).

/** This account as a group member card (its own relay, relay id and current token). */
export function ownCard(profile: Profile, admin: boolean): GroupMember {
  const relayId = homeRelayId(profile);
  if (!relayId) throw new SottoError('NOT_CONFIGURED', 'relay id not pinned yet');
  return {
    accountId: profile.account.accountId,
    identityKey: toBase64(profile.account.identity.publicKey.serialize()),
    name: profile.account.displayName,
    relay: homeRelaySetting(profile).address,
    relayId,
    token: toBase64(ownDeliveryToken(profile)),
    admin,
  };
}

/** A contact as a group member card (UNKNOWN_CONTACT unless we can reach them: relay, relay id, token, key). */
export function contactCard(db: Sql, profile: Profile, accountId: string): GroupMember {
  const row = db
    .prepare(
      'SELECT display_name, relay, relay_id, delivery_token, blocked FROM contacts WHERE account_id = ?',
    )
    .get<{
      display_name: string | null;
      relay: string | null;
      relay_id: string | null;
      delivery_token: Uint8Array<ArrayBuffer> | null;
      blocked: number;
    }>([accountId]);
  const identity = profile.state.getIdentity(accountId);
  if (!row || !row.relay || !row.relay_id || !row.delivery_token || !identity)
    throw new SottoError('UNKNOWN_CONTACT');
  if (row.blocked === 1) throw new SottoError('CONTACT_BLOCKED');
  if (identity.trust === 'changed') throw new SottoError('IDENTITY_CHANGED');
  return {
    accountId: accountId as AccountId,
    identityKey: toBase64(identity.publicKey),
    name: row.display_name ?? 'Member',
    relay: row.relay,
    relayId: row.relay_id,
    token: toBase64(row.delivery_token),
    admin: false,
  };
}

/**
 * Makes every member of `state` reachable pairwise: a contact row for a
 * member we did not know (no conversation: they are not a 1:1 contact until
 * someone writes), their key pinned through `tx` (committed with the state).
 * A known contact keeps its own relay and token (the invite is newer).
 */
export function ensureMemberContacts(
  db: Sql,
  tx: ProtocolTransaction,
  self: string,
  state: GroupSnapshot,
  now: number,
): void {
  const insert = db.prepare(
    `INSERT INTO contacts (account_id, display_name, relay, relay_id, delivery_token, created_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO NOTHING`,
  );
  for (const m of state.members) {
    if (m.accountId === self) continue;
    // The admin's word for their name: one against the display-name rule leaves the contact unnamed.
    const name = receivedDisplayName(m.name) ?? null;
    insert.run([m.accountId, name, m.relay, m.relayId, fromBase64(m.token), now]);
    if (!tx.identity(m.accountId)) tx.saveIdentity(m.accountId, fromBase64(m.identityKey));
  }
}

/**
 * Forgets this device's sender-key chain for group `ref` and who holds it:
 * the next distribution starts a new chain (new distribution id) and sends
 * it to every current member. Runs in the transaction that applied the
 * departure.
 */
export function resetOwnChain(db: Sql, ref: number, ownAddress: string): void {
  const distributionId = db
    .prepare('SELECT distribution_id FROM own_sender_keys WHERE group_ref = ?', { pluck: true })
    .get<string>([ref]);
  if (distributionId !== undefined) {
    db.prepare('DELETE FROM sender_keys WHERE address = ? AND distribution_id = ?').run([
      ownAddress,
      distributionId,
    ]);
  }
  db.prepare('DELETE FROM own_sender_keys WHERE group_ref = ?').run([ref]);
  db.prepare('DELETE FROM sender_key_shared WHERE group_ref = ?').run([ref]);
}

/** True if some member of `before` is not in `after` (a removal or a leave: rotate). */
export function someoneLeft(before: GroupSnapshot, after: GroupSnapshot): boolean {
  const remaining = new Set(after.members.map((m) => m.accountId));
  return before.members.some((m) => !remaining.has(m.accountId));
}

/**
 * We left or were removed: what we queued for the group will never be sent
 * (our chain is gone, and it is not ours to send any more). The messages
 * become `failed`, their outbox rows go.
 */
export function abandonGroupOutbox(db: Sql, ref: number): void {
  db.prepare(
    "UPDATE group_messages SET status = 'failed' WHERE group_ref = ? AND outgoing = 1 AND status = 'queued'",
  ).run([ref]);
  db.prepare('DELETE FROM group_outbox WHERE group_ref = ?').run([ref]);
}
