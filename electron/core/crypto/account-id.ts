import { createHash } from 'node:crypto';
import type { PublicKey } from '@signalapp/libsignal-client';
import {
  ACCOUNT_ID_DOMAIN,
  type AccountId,
  accountIdFromDigest,
} from '../../../shared/protocol/account-id.ts';

/** The account id of an identity key (docs/message-format.md#account-ids). */
export function deriveAccountId(identityKey: PublicKey): AccountId {
  return accountIdFromDigest(
    createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(identityKey.serialize()).digest(),
  );
}
