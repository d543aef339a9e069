import { randomInt } from 'node:crypto';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import type { Sql } from '../db/sqlite.ts';
import { deriveAccountId } from './account-id.ts';
import { addKyberPreKeys, addPreKeys, addSignedPreKey, PREKEY_BATCH } from './prekeys.ts';
import type { LocalAccount } from './protocol-state.ts';

/** The device id of the account's first (and, for now, only) device. */
export const PRIMARY_DEVICE_ID = 1;

/**
 * Creates the account in an empty profile database: identity key pair,
 * registration id, a signed EC prekey, a last-resort Kyber prekey and a batch
 * of one-time EC and Kyber prekeys, all in one transaction.
 */
export function createAccount(db: Sql, displayName: string, now = Date.now()): LocalAccount {
  const identity = IdentityKeyPair.generate();
  const account: LocalAccount = {
    accountId: deriveAccountId(identity.publicKey),
    displayName,
    deviceId: PRIMARY_DEVICE_ID,
    registrationId: randomInt(1, 0x3fff + 1),
    identity,
  };
  db.transaction(() => {
    db.prepare(
      `INSERT INTO account (singleton, account_id, display_name, device_id, registration_id, identity_key_pair, created_at)
       VALUES (1, ?, ?, ?, ?, ?, ?)`,
    ).run([
      account.accountId,
      displayName,
      account.deviceId,
      account.registrationId,
      identity.serialize(),
      now,
    ]);
    addSignedPreKey(db, identity, now);
    addKyberPreKeys(db, identity, 1, true, now);
    addKyberPreKeys(db, identity, PREKEY_BATCH, false, now);
    addPreKeys(db, PREKEY_BATCH, now);
  })();
  return account;
}
