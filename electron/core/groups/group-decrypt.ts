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
import { nextGroupState, withParts } from './group-receive.ts';
import { BatchPartBuffer, DbPartBuffer } from './snapshot-parts.ts';
import { loadGroup, type StoredGroup } from './group-store.ts';
import type { SenderKeyUnit } from './sender-key-store.ts';

// The decrypt half of receiving group contents (messaging/receive.ts): who
// may be decrypted, and which content may arrive how. A sender-key message
// is decrypted only for a current member of the group its seal names; a
// distribution message is processed only when it came pairwise from a
// current member (never inside a sender-key message: Signal's rule).

/**
 * The group states a receive batch has decoded so far, ahead of its commit:
 * an SKDM that follows the update creating its group in the same batch must
 * see that group (the commit applies the same updates by the same rules).
 */
export class BatchGroups {
  private readonly states = new Map<
    string,
    Pick<StoredGroup, 'state' | 'previous' | 'standing'> | undefined
  >();

  private readonly parts: BatchPartBuffer;

  constructor(
    private readonly db: Sql,
    private readonly self: string,
  ) {
    this.parts = new BatchPartBuffer(new DbPartBuffer(db));
  }

  /** Notes a decoded group update (its effect, if it would be applied). */
  note(sender: string, content: Extract<Content, { type: 'group-update' }>): void {
    const groupId = content.signed.update.groupId;
    const current = this.get(groupId);
    const whole = withParts(this.parts, current, content, sender, this.self, Date.now());
    if (whole === 'pending' || 'refused' in whole) return;
    const next = nextGroupState(current, whole, sender, this.self);
    if (next.ok)
      this.states.set(groupId, { state: next.state, previous: next.base, standing: next.standing });
  }

  /** True if `sender` (with `senderKey`) is a current member of the group with raw id `groupId`. */
  isMember(groupId: Uint8Array, sender: string, senderKey: PublicKey | undefined): boolean {
    const group = this.get(toBase64(groupId));
    if (!group || group.standing !== 'member') return false;
    const member = group.state.members.find((m) => m.accountId === sender);
    return (
      member !== undefined &&
      (senderKey === undefined ||
        Buffer.from(fromBase64(member.identityKey)).equals(Buffer.from(senderKey.serialize())))
    );
  }

  private get(groupId: string) {
    if (!this.states.has(groupId)) this.states.set(groupId, loadGroup(this.db, groupId));
    return this.states.get(groupId);
  }
}

/**
 * Checks how a decoded content arrived and processes a distribution message
 * into `keys` (the envelope's sender-key unit). 'refuse': a group message
 * outside a sender-key envelope of its group, or any other content inside
 * one; 'SKDM_NOT_MEMBER': a distribution from a non-member, ignored.
 */
export async function checkGroupContent(
  groups: BatchGroups,
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
  if (content.type === 'group-update') groups.note(sender.sender, content);
  if (content.type !== 'skdm') return undefined;
  if (!groups.isMember(fromBase64(content.groupId), sender.sender, sender.senderKey))
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
