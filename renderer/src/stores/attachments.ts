import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { PickedFileView } from '../../../shared/ipc/attachment-picks.ts';
import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import { call } from '../bridge.ts';

/** Where files go: a 1:1 conversation or a group. */
export type AttachmentTarget = { conversationId: number } | { groupId: string };

/**
 * A file for the composer's tray: dropped or pasted ones by their bytes,
 * ones picked with the Attach button by main's pick token (never a path).
 */
export type TrayFile = {
  readonly name: string;
  readonly size: number;
  /** What the renderer measured of an image (its own decode; never a received file's). */
  readonly visual?: { width: number; height: number; preview?: string };
} & ({ readonly bytes: ArrayBuffer } | { readonly token: string });

/** A file waiting in the composer's tray. */
export type PendingFile = TrayFile & { readonly key: number };

/** How often the open conversation's transfers are re-read while one is still running. */
const REFRESH_MS = 1_000;

const keyOf = (target: AttachmentTarget): string =>
  'groupId' in target ? `g:${target.groupId}` : `c:${target.conversationId}`;

/**
 * The files of the open conversation (by message), the tray of files waiting
 * to be sent (per conversation), and sending and saving them. The files
 * themselves are loaded by the elements from main's attachment: scheme.
 */
export const useAttachmentsStore = defineStore('attachments', () => {
  /** Attachments of the open conversation by message key ('m:<id>' or 'g:<id>'). */
  const byMessage = ref<Record<string, AttachmentSummaryView[]>>({});
  /** Pending files per conversation key. */
  const pending = ref<Record<string, PendingFile[]>>({});
  /** Names of the files last refused as too large to drop or paste. */
  const refused = ref<string[]>([]);
  let open: AttachmentTarget | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let nextKey = 1;
  let seq = 0;
  let applied = 0;

  /** The attachments of a 1:1 message or a group message. */
  function of(
    message: { messageId: number } | { groupMessageId: number },
  ): AttachmentSummaryView[] {
    const key =
      'groupMessageId' in message ? `g:${message.groupMessageId}` : `m:${message.messageId}`;
    return byMessage.value[key] ?? [];
  }

  /** Reads the open conversation's files; re-reads every REFRESH_MS while an upload or download runs. */
  async function load(target: AttachmentTarget): Promise<void> {
    const mine = ++seq;
    if (!open || keyOf(open) !== keyOf(target)) byMessage.value = {};
    open = target;
    clearTimeout(timer);
    const list = await call('attachments:list', target);
    // A newer read may be under way (the messages changed meanwhile): this
    // answer still shows, unless a newer one already did or another
    // conversation opened, so the visible images start loading at once.
    if (mine <= applied || !open || keyOf(open) !== keyOf(target)) return;
    applied = mine;
    const next: Record<string, AttachmentSummaryView[]> = {};
    for (const a of list) {
      const key = a.groupMessageId !== null ? `g:${a.groupMessageId}` : `m:${a.messageId}`;
      (next[key] ??= []).push(a);
    }
    byMessage.value = next;
    if (mine === seq && list.some((a) => a.state === 'uploading' || a.state === 'pending'))
      timer = setTimeout(() => void load(target).catch(() => undefined), REFRESH_MS);
  }

  /** Stops following the open conversation. */
  function close(): void {
    seq++;
    open = null;
    clearTimeout(timer);
    byMessage.value = {};
  }

  function tray(target: AttachmentTarget): PendingFile[] {
    return pending.value[keyOf(target)] ?? [];
  }

  function add(target: AttachmentTarget, file: TrayFile): void {
    const key = keyOf(target);
    pending.value = { ...pending.value, [key]: [...tray(target), { ...file, key: nextKey++ }] };
  }

  function remove(target: AttachmentTarget, fileKey: number): void {
    const key = keyOf(target);
    pending.value = { ...pending.value, [key]: tray(target).filter((f) => f.key !== fileKey) };
  }

  /** Sends the tray's files with `caption`; the tray empties only once the core has them. */
  async function sendTray(target: AttachmentTarget, caption: string): Promise<number> {
    const files = tray(target);
    const sent = await call('attachments:send-files', {
      ...target,
      caption,
      files: files.map((f) => ({
        ...('token' in f ? { token: f.token } : { name: f.name, bytes: f.bytes }),
        ...(f.visual ? { visual: f.visual } : {}),
      })),
    });
    const sentKeys = new Set(files.map((f) => f.key));
    pending.value = {
      ...pending.value,
      [keyOf(target)]: tray(target).filter((f) => !sentKeys.has(f.key)),
    };
    return sent.messageId;
  }

  /** Files the user picks in main's open dialog, as tokens (CANCELLED if they close it). */
  function pick(): Promise<PickedFileView[]> {
    return call('attachments:pick', {});
  }

  /** A picked image's bytes, to measure it and draw its preview here (the token stays usable). */
  function pickedBytes(token: string): Promise<ArrayBuffer> {
    return call('attachments:picked-bytes', { token });
  }

  /** Writes the decrypted file where the user picks in main's save dialog. */
  async function save(attachmentId: number): Promise<void> {
    await call('attachments:save', { attachmentId });
  }

  function reset(): void {
    close();
    pending.value = {};
    refused.value = [];
  }

  return {
    byMessage,
    pending,
    refused,
    of,
    load,
    close,
    tray,
    add,
    remove,
    sendTray,
    pick,
    pickedBytes,
    save,
    reset,
  };
});
