import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Profile } from '../profile/profile.ts';
import { queueTokenUpdate } from '../messaging/outbox.ts';
import { type Contact, getContact } from './contacts.ts';
import { rotateOwnToken, ownDeliveryToken } from './tokens.ts';

/**
 * Blocks a contact: in one transaction, this account's delivery token is
 * rotated (pending registration at the home relay, which the engine does
 * before it sends anything), the contact is marked blocked, and the new
 * token is queued, encrypted, to every other contact that can be reached.
 * Once the relay has the new token the blocked contact can no longer write;
 * whatever they sent before is dropped on arrival.
 */
export function blockContact(profile: Profile, accountId: AccountId, now = Date.now()): Contact {
  getContact(profile.db, accountId); // UNKNOWN_CONTACT
  profile.commit(undefined, (db) => {
    db.prepare('UPDATE contacts SET blocked = 1 WHERE account_id = ?').run([accountId]);
    const token = toBase64(rotateOwnToken(db));
    const others = db
      .prepare(
        'SELECT account_id FROM contacts WHERE blocked = 0 AND delivery_token IS NOT NULL AND account_id <> ?',
        { pluck: true },
      )
      .all<string>([accountId]);
    for (const other of others) queueTokenUpdate(db, profile.account, other, token, now);
  });
  return getContact(profile.db, accountId);
}

/** Unblocks a contact and sends them the current token, so they can write again. */
export function unblockContact(profile: Profile, accountId: AccountId, now = Date.now()): Contact {
  const contact = getContact(profile.db, accountId);
  if (!contact.blocked) return contact;
  const token = toBase64(ownDeliveryToken(profile));
  profile.commit(undefined, (db) => {
    db.prepare('UPDATE contacts SET blocked = 0 WHERE account_id = ?').run([accountId]);
    // Without their token they cannot be reached (yet): nothing would ever send it.
    const reachable = db
      .prepare('SELECT 1 FROM contacts WHERE account_id = ? AND delivery_token IS NOT NULL')
      .get([accountId]);
    if (reachable) queueTokenUpdate(db, profile.account, accountId, token, now);
  });
  return getContact(profile.db, accountId);
}
