import { randomBytes, randomUUID } from 'node:crypto';
import {
  ContentHint,
  groupEncrypt,
  SenderKeyDistributionMessage,
  sealedSenderMultiRecipientEncrypt,
  UnidentifiedSenderMessageContent,
} from '@signalapp/libsignal-client';
import { ProtocolTransaction } from '../../electron/core/crypto/protocol-transaction.ts';
import { SenderKeyUnit } from '../../electron/core/groups/sender-key-store.ts';
import { localAddress, peerAddress } from '../../electron/core/messaging/addresses.ts';
import { senderCertificate } from '../../electron/core/messaging/sealed.ts';
import type { Profile } from '../../electron/core/profile/profile.ts';

// A sealed-sender v2 (multi-recipient) message from `from` to `to`, built with
// libsignal as a group send builds it: a sender-key ciphertext in a USMC with
// the group id, sealed once for all recipients. `from` needs a session with
// each recipient (tests/support/profiles.ts `introduce`). Nothing is committed.

/** The multi-recipient body and the SKDM a recipient would need to open the inner message. */
export async function multiSealed(
  from: Profile,
  to: readonly Profile[],
  plaintext: Uint8Array = randomBytes(40),
  groupId: Uint8Array = randomBytes(32),
) {
  const unit = new SenderKeyUnit(from.db);
  const distributionId = randomUUID();
  const skdm = await SenderKeyDistributionMessage.create(
    localAddress(from),
    distributionId,
    unit.store,
  );
  const ciphertext = await groupEncrypt(
    localAddress(from),
    distributionId,
    unit.store,
    Uint8Array.from(plaintext),
  );
  const usmc = UnidentifiedSenderMessageContent.new(
    ciphertext,
    senderCertificate(from),
    ContentHint.Implicit,
    Uint8Array.from(groupId),
  );
  const tx = new ProtocolTransaction(from.state);
  const body = await sealedSenderMultiRecipientEncrypt(
    usmc,
    to.map((p) => peerAddress(p.account.accountId, p.account.deviceId)),
    tx.identityStore,
    tx.sessionStore,
  );
  return { body, skdm, distributionId, groupId };
}
