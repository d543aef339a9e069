import { createHash } from 'node:crypto';
import { type PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  type GroupUpdate,
  groupUpdateBytes,
  type SignedGroupUpdate,
} from '../../../shared/protocol/group.ts';

// Signatures over group updates (docs/message-format.md#groups): the
// author's identity key signs the domain-separated canonical bytes; the
// update's hash (over the signed bytes and the signature) is the head of
// the state it produces and the tie-break between concurrent updates.

/** The parent of a create: 32 zero bytes. */
export const NO_PARENT = toBase64(new Uint8Array(32));

/** Signs `update` with the author's identity private key. */
export function signUpdate(update: GroupUpdate, key: PrivateKey): SignedGroupUpdate {
  return { update, signature: toBase64(key.sign(groupUpdateBytes(update))) };
}

/** True if `signed` carries a valid signature by `identityKey` (33 bytes, base64). */
export function verifyUpdate(signed: SignedGroupUpdate, identityKey: string): boolean {
  try {
    return PublicKey.deserialize(fromBase64(identityKey)).verify(
      groupUpdateBytes(signed.update),
      fromBase64(signed.signature),
    );
  } catch {
    return false;
  }
}

/** SHA-256 over the signed bytes and the signature, base64: the head of the state `signed` produces. */
export function updateHash(signed: SignedGroupUpdate): string {
  return createHash('sha256')
    .update(groupUpdateBytes(signed.update))
    .update(fromBase64(signed.signature))
    .digest('base64');
}
