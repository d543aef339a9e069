import { ProtocolAddress, sealedSenderEncrypt } from '@signalapp/libsignal-client';
import {
  addContact,
  encryptQueued,
  publishedKeys,
  queueText,
  readyEnvelopes,
  startSession,
  type Profile,
} from '../../electron/core/index.ts';
import { ProtocolTransaction } from '../../electron/core/crypto/protocol-transaction.ts';
import { senderCertificate } from '../../electron/core/messaging/sealed.ts';
import { unidentifiedContent } from '../../electron/core/messaging/usmc.ts';
import { takeBundle } from '../../shared/protocol/keys.ts';
import { cardOf, newProfile } from './profiles.ts';

// Well-sealed envelopes from a real sender whose content is hostile: the seal
// and certificate are fine, what is inside is whatever the test writes.

/** Bob's account (and folder) as Mallory sees it after writing to him once (she holds a session; he does not know her). */
export async function malloryReachesBob() {
  const { profile: bob, dir: bobDir, passphrase: bobPassphrase } = await newProfile('Bob');
  const { profile: mallory } = await newProfile('Mallory');
  addContact(mallory, cardOf(bob));
  await startSession(
    mallory,
    takeBundle(publishedKeys(bob.db, bob.account), 0),
    bob.account.accountId,
  );
  return { bob, mallory, bobDir, bobPassphrase };
}

/** Encrypts arbitrary padded content from `from` to `to` through the real outbox machinery, sealed honestly. */
export async function sealedContent(
  from: Profile,
  to: Profile,
  json: unknown,
): Promise<Uint8Array<ArrayBuffer>> {
  // Queue a text to get the outbox row, then swap its payload for the hostile content before encryption.
  queueText(from, to.account.accountId, 'placeholder');
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  const padded = new Uint8Array(Math.ceil((bytes.length + 1) / 160) * 160);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  from.db.prepare('UPDATE outbox SET payload = ? WHERE ciphertext IS NULL').run([padded]);
  await encryptQueued(from);
  const [inner] = readyEnvelopes(from, 1);
  from.db.prepare('DELETE FROM outbox').run();
  const content = unidentifiedContent(inner!.type, inner!.body, senderCertificate(from), 0);
  return sealedSenderEncrypt(
    content,
    ProtocolAddress.new(to.account.accountId, 1),
    new ProtocolTransaction(from.state).identityStore,
  );
}
