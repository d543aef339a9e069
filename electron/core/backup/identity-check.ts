import { IdentityKeyPair, PublicKey } from '@signalapp/libsignal-client';
import { SottoError } from '../errors.ts';
import { deriveAccountId } from '../crypto/account-id.ts';
import { checkGroupIdentities } from './group-records.ts';
import type { BackupManifest, ContactRecord, DataRecord } from './format/records.ts';

// An account id is its identity key (issue 9): a backup is no way around that
// rule. Whoever holds a backup's passphrase can write any record into it, so a
// contact whose key does not derive its id would otherwise land in the
// profile as that contact's key, and an account record with a foreign key
// would make the restored profile speak as someone its id does not name.

/**
 * The checks import's first pass (and `verify --deep`) make across records:
 * exactly one account record, for the manifest's account, whose key pair
 * derives that id; every contact's identity key derives the contact's id;
 * every message is from this account (outgoing) or its conversation's contact;
 * a contact's move names its target by the target's key.
 * Throws BACKUP_TAMPERED for an inconsistent or undecodable record and
 * IDENTITY_MISMATCH for a key that names another account.
 */
export class BackupIdentityCheck {
  private accountSeen = false;

  constructor(private readonly manifest: BackupManifest) {
    if (manifest.counts.account !== 1) throw new SottoError('BACKUP_TAMPERED', 'account count');
  }

  /** Checks a batch of validated records, in stream order. */
  check(records: readonly DataRecord[]): void {
    for (const record of records) {
      if (record.type === 'account') {
        if (this.accountSeen || record.accountId !== this.manifest.accountId)
          throw new SottoError('BACKUP_TAMPERED', 'account record');
        this.accountSeen = true;
        const pair = decode(() =>
          IdentityKeyPair.deserialize(Buffer.from(record.identityKeyPair, 'base64')),
        );
        const own = pair.privateKey.getPublicKey();
        // The public half must be the private key's own, and it must name this account.
        if (!own.equals(pair.publicKey) || deriveAccountId(own) !== record.accountId)
          throw new SottoError('IDENTITY_MISMATCH', 'account');
      } else if (record.type === 'contact' && record.identity) {
        const key = decode(() =>
          PublicKey.deserialize(Buffer.from(record.identity!.publicKey, 'base64')),
        );
        if (deriveAccountId(key) !== record.accountId)
          throw new SottoError('IDENTITY_MISMATCH', 'contact');
        this.checkMove(record);
      } else if (record.type === 'contact') {
        this.checkMove(record);
      } else if (record.type === 'message') {
        // Conversations are one-to-one: a message is from this account (outgoing) or from the contact
        // it is filed under. Anything else would show a message under a name that did not send it.
        const sender = record.outgoing ? this.manifest.accountId : record.with;
        if (record.senderAccount !== sender)
          throw new SottoError('BACKUP_TAMPERED', 'message sender');
      } else if (record.type === 'group' || record.type === 'groupMessage') {
        checkGroupIdentities(record, this.manifest.accountId);
      }
    }
  }

  /**
   * A contact's move names the account it moved to by that account's key, as
   * a move notice does: the key must derive `to` (IDENTITY_MISMATCH), and a
   * contact cannot move to itself or to this account (BACKUP_TAMPERED).
   */
  private checkMove(record: ContactRecord): void {
    const move = record.move;
    if (!move) return;
    if (move.to === record.accountId || move.to === this.manifest.accountId)
      throw new SottoError('BACKUP_TAMPERED', 'move target');
    const key = decode(() => PublicKey.deserialize(Buffer.from(move.identityKey, 'base64')));
    if (deriveAccountId(key) !== move.to) throw new SottoError('IDENTITY_MISMATCH', 'move');
  }
}

/**
 * The read callbacks that run a BackupIdentityCheck over a deep read;
 * `first` sees the manifest before the check starts (e.g. the account test).
 */
export function identityCheckHooks(first?: (manifest: BackupManifest) => void): {
  readonly onManifest: (manifest: BackupManifest) => void;
  readonly onRecords: (records: readonly DataRecord[]) => void;
} {
  let check: BackupIdentityCheck | undefined;
  return {
    onManifest: (manifest) => {
      first?.(manifest);
      check = new BackupIdentityCheck(manifest);
    },
    onRecords: (records) => {
      // The reader hands records over only after the manifest; a missing check is a reader bug, never skipped.
      if (!check) throw new SottoError('INTERNAL', 'records before the manifest');
      check.check(records);
    },
  };
}

/** libsignal's parse of key bytes; a failure is a damaged record. */
function decode<T>(parse: () => T): T {
  try {
    return parse();
  } catch {
    throw new SottoError('BACKUP_TAMPERED', 'key bytes');
  }
}
