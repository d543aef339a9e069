import { randomInt, randomUUID } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { type Content, encodeContent } from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  type MoveNotice,
  moveNoticeMessage,
  moveNoticeSchema,
  type RelayId,
} from '../../../shared/relay/protocol.ts';
import type { Sql } from '../db/sqlite.ts';
import { hasCode, SottoError } from '../errors.ts';
import { log } from '../log.ts';
import type { HomeRelay } from '../sync/relay.ts';
import { homeRelaySetting } from '../sync/home-relay-setting.ts';
import { ownDeliveryToken } from '../contacts/tokens.ts';
import type { Profile } from '../profile/profile.ts';
import { deriveAccountId } from './account-id.ts';
import { addKyberPreKeys, addPreKeys, addSignedPreKey, PREKEY_BATCH } from './prekeys.ts';
import type { LocalAccount } from './protocol-state.ts';
import { requeueBehind } from './move-outbox.ts';

/** Where the new account receives: told to every contact in the `moved` content. */
export interface MoveDestination {
  readonly relay: string;
  readonly relayId: RelayId;
  /** The delivery token contacts use to reach the new account (16 bytes). */
  readonly token: Uint8Array;
}

/**
 * Where this account receives now: its home relay, the relay id pinned at the
 * first connection and its own delivery token. NOT_CONFIGURED until the home
 * relay was reached once (no pinned id to tell contacts).
 */
export function ownDestination(profile: Profile): MoveDestination {
  const home = homeRelaySetting(profile);
  if (!home.relayId) throw new SottoError('NOT_CONFIGURED', 'home relay never reached');
  return { relay: home.address, relayId: home.relayId, token: ownDeliveryToken(profile) };
}

/** Signs a move notice from `from` to the account of `to` (docs/message-format.md#identity-reset). */
export function signMoveNotice(
  from: LocalAccount,
  to: IdentityKeyPair,
  issuedAt: number,
): MoveNotice {
  const toId = deriveAccountId(to.publicKey);
  const key = to.publicKey.serialize();
  return {
    from: from.accountId,
    to: toId,
    identityKey: toBase64(key),
    issuedAt,
    signature: toBase64(
      from.identity.privateKey.sign(moveNoticeMessage(from.accountId, toId, key, issuedAt)),
    ),
  };
}

/**
 * Identity reset (after a suspected compromise): a new identity key pair and
 * so a new account id, a new registration id and new prekeys; sessions are
 * cleared; history, contacts and settings are kept. The old key signs a move
 * notice before it is deleted; the notice goes to every contact in a `moved`
 * content queued ahead of everything else, and is kept in `own_moves` until the
 * home relay took it (`announcePendingMove`). One transaction: a crash leaves
 * the old identity or the new one, never a mix. Runs as an exclusive unit of
 * work, so no encrypt or decrypt pass of the old identity commits after it.
 */
export function resetIdentity(
  profile: Profile,
  destination: MoveDestination,
  now = Date.now(),
): Promise<LocalAccount> {
  return profile.exclusive(() => Promise.resolve(replaceIdentity(profile, destination, now)));
}

function replaceIdentity(
  profile: Profile,
  destination: MoveDestination,
  now: number,
): LocalAccount {
  const old = profile.account;
  const identity = IdentityKeyPair.generate();
  const notice = signMoveNotice(old, identity, now);
  const account: LocalAccount = {
    accountId: notice.to,
    displayName: old.displayName,
    deviceId: old.deviceId,
    registrationId: randomInt(1, 0x3fff + 1),
    identity,
  };
  profile.commit(undefined, (db) => {
    db.exec(
      'DELETE FROM sessions; DELETE FROM sender_keys; DELETE FROM kyber_pre_key_uses; DELETE FROM pre_keys; ' +
        'DELETE FROM signed_pre_keys; DELETE FROM kyber_pre_keys;',
    );
    db.prepare(
      'UPDATE account SET account_id = ?, registration_id = ?, identity_key_pair = ? WHERE singleton = 1',
    ).run([account.accountId, account.registrationId, identity.serialize()]);
    addSignedPreKey(db, identity, now);
    addKyberPreKeys(db, identity, 1, true, now);
    addKyberPreKeys(db, identity, PREKEY_BATCH, false, now);
    addPreKeys(db, PREKEY_BATCH, now);
    // Key publication and token registration belong to the old account: the new one does both afresh.
    db.prepare(
      "DELETE FROM settings WHERE key IN ('keys.publishedTo', 'delivery.tokenRegisteredWith')",
    ).run();
    db.prepare('INSERT INTO own_moves (notice, created_at) VALUES (?, ?)').run([
      JSON.stringify(notice),
      now,
    ]);
    const moved: Content = {
      v: 1,
      type: 'moved',
      notice,
      relay: destination.relay,
      relayId: destination.relayId,
      token: toBase64(destination.token),
      sentAt: now,
    };
    requeueBehind(db, old.displayName, () => queueToEveryContact(db, encodeContent(moved), now));
  });
  // The old private key is gone from the database; the cache must forget it too.
  profile.state.replaceAccount(account);
  return account;
}

/** One `moved` row per contact (control content: no message row, like a receipt). */
function queueToEveryContact(db: Sql, payload: Uint8Array<ArrayBuffer>, now: number): void {
  const insert = db.prepare(
    `INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, created_at)
     VALUES ('receipt', NULL, ?, ?, 1, ?, ?)`,
  );
  for (const accountId of db
    .prepare('SELECT account_id FROM contacts WHERE blocked = 0 ORDER BY id', { pluck: true })
    .all<string>()) {
    insert.run([randomUUID(), accountId, payload, now]);
  }
}

/**
 * Tells the home relay about every move notice it has not taken yet
 * (`account.move`), oldest first, so it refuses the old account from now on.
 * The engine calls it after logging in as the new account. RELAY_UNAVAILABLE
 * propagates (try again on the next pass); a refusal cannot be cured by
 * retrying, so the notice is marked done and the refusal logged.
 */
export async function announcePendingMove(
  profile: Profile,
  home: HomeRelay,
  now = Date.now(),
): Promise<number> {
  const pending = profile.db
    .prepare('SELECT id, notice FROM own_moves WHERE announced_at IS NULL ORDER BY id')
    .all<{ id: number; notice: string }>();
  let announced = 0;
  for (const row of pending) {
    const notice = parseNotice(row.notice);
    if (!notice) {
      log.warn('identity.move-unreadable'); // a damaged row can never be sent: do not retry it forever
    } else {
      try {
        await home.moveAccount(notice);
        announced++;
      } catch (error) {
        if (!hasCode(error, 'RELAY_REFUSED')) throw error;
        log.error('identity.move-refused', error);
      }
    }
    profile.commit(undefined, (db) =>
      db.prepare('UPDATE own_moves SET announced_at = ? WHERE id = ?').run([now, row.id]),
    );
  }
  return announced;
}

function parseNotice(text: string): MoveNotice | undefined {
  try {
    const parsed = moveNoticeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
