import {
  CiphertextMessageType,
  type PublicKey,
  processSenderKeyDistributionMessage,
  SenderKeyDistributionMessage,
} from '@signalapp/libsignal-client';
import type { Content } from '../../../shared/protocol/content.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Sql } from '../db/sqlite.ts';
import { peerAddress } from '../messaging/addresses.ts';
import { isCurrentMember, loadGroup } from './group-store.ts';
import type { SenderKeyUnit } from './sender-key-store.ts';

// The decrypt half of receiving group contents (messaging/receive.ts): who
// may be decrypted, and which content may arrive how. A sender-key message
// is decrypted only for a current member of the group its seal names; a
// distribution message is processed only when it came pairwise from a
// current member (never inside a sender-key message: Signal's rule).

/** True if `sender` (with `senderKey`) is a current member of the group with raw id `groupId`. */
export function senderIsMember(
  db: Sql,
  groupId: Uint8Array,
  sender: string,
  senderKey: PublicKey | undefined,
): boolean {
  const group = loadGroup(db, toBase64(groupId));
  if (!group || group.standing !== 'member') return false;
  return isCurrentMember(db, group.ref, sender, senderKey?.serialize());
}

/**
 * Checks how a decoded content arrived and processes a distribution message
 * into `keys` (the envelope's sender-key unit). 'refuse': a group message
 * outside a sender-key envelope of its group, or any other content inside
 * one; 'SKDM_NOT_MEMBER': a distribution from a non-member, ignored.
 */
export async function checkGroupContent(
  db: Sql,
  keys: SenderKeyUnit,
  sender: {
    readonly sender: string;
    readonly senderDevice: number;
    readonly senderKey?: PublicKey;
    readonly type: number;
    readonly groupId?: Uint8Array;
  },
  content: Content,
): Promise<'refuse' | 'SKDM_NOT_MEMBER' | undefined> {
  const viaSenderKey = sender.type === (CiphertextMessageType.SenderKey as number);
  if (viaSenderKey) {
    const ok =
      content.type === 'group-text' &&
      sender.groupId !== undefined &&
      toBase64(sender.groupId) === content.groupId;
    return ok ? undefined : 'refuse';
  }
  if (content.type !== 'skdm') return undefined;
  if (!senderIsMember(db, fromBase64(content.groupId), sender.sender, sender.senderKey))
    return 'SKDM_NOT_MEMBER';
  try {
    await processSenderKeyDistributionMessage(
      peerAddress(sender.sender, sender.senderDevice),
      SenderKeyDistributionMessage.deserialize(fromBase64(content.skdm)),
      keys.store,
    );
  } catch {
    return 'refuse';
  }
  return undefined;
}
