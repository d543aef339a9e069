import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EventPayload } from '../../../shared/ipc/contract.ts';
import { call, errorCodeOf } from '../bridge.ts';
import type { AttachmentTarget } from './attachments.ts';

// Sends with files while the core seals them (docs/architecture.md#attachments-in-the-app):
// each send gets a fresh id here, the tray shows "Encrypting… n %" from the
// core's `attachments:sealing` events, and Cancel stops it through
// `attachments:cancel-send`. Ids and byte counts only: no names, no paths.

/** A send being sealed: its id and how far the core has read its files. */
export interface SealingSend {
  readonly sendId: string;
  readonly done: number;
  readonly total: number;
  /** The user clicked Cancel; the send's answer is awaited. */
  readonly cancelling: boolean;
}

const keyOf = (target: AttachmentTarget): string =>
  'groupId' in target ? `g:${target.groupId}` : `c:${target.conversationId}`;

export const useAttachmentSendsStore = defineStore('attachmentSends', () => {
  /** The running send with files per conversation key. */
  const sealing = ref<Record<string, SealingSend>>({});

  /** Starts following a send of `total` bytes to `target`; returns its new id. */
  function begin(target: AttachmentTarget, total: number): string {
    const sendId = crypto.randomUUID();
    sealing.value = {
      ...sealing.value,
      [keyOf(target)]: { sendId, done: 0, total, cancelling: false },
    };
    return sendId;
  }

  /** The send's call answered (stored, refused or cancelled). */
  function end(sendId: string): void {
    sealing.value = Object.fromEntries(
      Object.entries(sealing.value).filter(([, send]) => send.sendId !== sendId),
    );
  }

  function update(sendId: string, patch: Partial<SealingSend>): void {
    const found = Object.entries(sealing.value).find(([, send]) => send.sendId === sendId);
    if (found) sealing.value = { ...sealing.value, [found[0]]: { ...found[1], ...patch } };
  }

  /** An `attachments:sealing` event of one of this window's sends. */
  function applySealing({ sendId, done, total }: EventPayload<'attachments:sealing'>): void {
    update(sendId, { done, total });
  }

  /** The send with files running for `target`, if any. */
  function of(target: AttachmentTarget): SealingSend | null {
    return sealing.value[keyOf(target)] ?? null;
  }

  /**
   * Cancel: during the seal the send's call answers CANCELLED and the tray
   * keeps its files; once stored, its uploads are cancelled (the message
   * says so, with Retry).
   */
  async function cancel(target: AttachmentTarget): Promise<void> {
    const send = of(target);
    if (!send || send.cancelling) return;
    update(send.sendId, { cancelling: true });
    try {
      await call('attachments:cancel-send', { sendId: send.sendId });
    } catch (failure) {
      // Main no longer knows it: the send ended meanwhile and its answer is on its way.
      if (errorCodeOf(failure) === 'UNKNOWN_SEND') return;
      update(send.sendId, { cancelling: false });
      throw failure;
    }
  }

  function reset(): void {
    sealing.value = {};
  }

  return { sealing, begin, end, applySealing, of, cancel, reset };
});
