import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { PickedFileView } from '../../../shared/ipc/attachment-picks.ts';
import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import type { EventPayload } from '../../../shared/ipc/contract.ts';
import { call, errorCodeOf } from '../bridge.ts';
import { type LostPicks, lostPicks } from '../pick-outcome.ts';

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

/** Where a running transfer stands (the core's `attachments:progress`). */
export type TransferProgress = Omit<EventPayload<'attachments:progress'>, 'attachmentId'>;

/** The connection as the renderer knows it (navigator.connection.saveData), for the auto-download policy. */
export type NetworkState = 'metered' | 'unmetered' | 'unknown';

/** True while the core moves the file: an upload, or a download not held back for a click. */
export function isTransferring(a: AttachmentSummaryView): boolean {
  return a.state === 'uploading' || (a.state === 'pending' && !a.waiting);
}

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
  /** Picked files a failed send took out of a tray (pick-outcome.ts), per conversation key. */
  const lost = ref<Record<string, { readonly names: string[]; readonly why: LostPicks }>>({});
  /** Progress of the open conversation's running transfers, by attachment id. */
  const progress = ref<Record<number, TransferProgress>>({});
  let open: AttachmentTarget | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let nextKey = 1;
  let seq = 0;
  let applied = 0;
  /** The read running for a conversation, and the one queued behind it (see load). */
  let reading: { key: string; done: Promise<void> } | null = null;
  let rereading: Promise<void> | null = null;

  /** The attachments of a 1:1 message or a group message. */
  function of(
    message: { messageId: number } | { groupMessageId: number },
  ): AttachmentSummaryView[] {
    const key =
      'groupMessageId' in message ? `g:${message.groupMessageId}` : `m:${message.messageId}`;
    return byMessage.value[key] ?? [];
  }

  /**
   * Reads the open conversation's files; re-reads every REFRESH_MS while an
   * upload or download runs. While a read of the same conversation runs,
   * further calls share ONE read queued behind it: transfers end in bursts
   * (an outbox or a backlog of downloads draining at start), each with an
   * `attachments:changed`, and a read per event queued hundreds of whole-list
   * reads in the core ahead of the visible images' attachment: requests.
   */
  function load(target: AttachmentTarget): Promise<void> {
    const key = keyOf(target);
    if (reading?.key === key) {
      rereading ??= reading.done
        .catch(() => undefined)
        .then(() => {
          rereading = null;
          // Closed or switched meanwhile: that conversation's own read is under way.
          return open && keyOf(open) === key ? load(target) : undefined;
        });
      return rereading;
    }
    const done = read(target).finally(() => {
      if (reading?.done === done) reading = null;
    });
    reading = { key, done };
    return done;
  }

  async function read(target: AttachmentTarget): Promise<void> {
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
    // Progress of what no longer runs goes (it ended while the list was read).
    const running = new Set(list.filter(isTransferring).map((a) => a.id));
    progress.value = Object.fromEntries(
      Object.entries(progress.value).filter(([id]) => running.has(Number(id))),
    );
    // A file waiting for a click does not keep the list polling.
    if (mine === seq && running.size > 0)
      timer = setTimeout(() => void load(target).catch(() => undefined), REFRESH_MS);
  }

  /** The attachment `id` of the open conversation, if shown. */
  function find(id: number): AttachmentSummaryView | undefined {
    for (const list of Object.values(byMessage.value)) {
      const hit = list.find((a) => a.id === id);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Replaces one shown attachment with the core's answer. */
  function replace(next: AttachmentSummaryView): void {
    const key = next.groupMessageId !== null ? `g:${next.groupMessageId}` : `m:${next.messageId}`;
    const list = byMessage.value[key];
    if (!list) return;
    byMessage.value = { ...byMessage.value, [key]: list.map((a) => (a.id === next.id ? next : a)) };
  }

  /** An `attachments:progress` event: kept for attachments the open conversation shows. */
  function applyProgress(event: EventPayload<'attachments:progress'>): void {
    if (!find(event.attachmentId)) return;
    const { attachmentId, ...rest } = event;
    progress.value = { ...progress.value, [attachmentId]: rest };
  }

  /** An `attachments:changed` event: a transfer ended; the open conversation re-reads its files. */
  async function applyChanged(event: EventPayload<'attachments:changed'>): Promise<void> {
    if (!open || !find(event.attachmentId)) return;
    const rest = { ...progress.value };
    delete rest[event.attachmentId];
    progress.value = rest;
    await load(open);
  }

  /** Downloads a file the policy held back (the user clicked Download). */
  async function download(attachmentId: number): Promise<void> {
    if (!open) return;
    replace(await call('attachments:download', { ...open, attachmentId }));
    // Follow it until it is stored (the list polls while a transfer runs).
    await load(open);
  }

  /** Cancels an upload or a download of the open conversation. */
  async function cancel(attachmentId: number): Promise<void> {
    if (!open) return;
    await call('attachments:cancel', { ...open, attachmentId });
    const rest = { ...progress.value };
    delete rest[attachmentId];
    progress.value = rest;
    await load(open);
  }

  /** Re-reads the open conversation's files (a retried message's uploads start again). */
  async function reload(): Promise<void> {
    if (open) await load(open);
  }

  /** Tells the core whether the connection is metered (auto-downloads wait on one). */
  async function reportNetwork(network: NetworkState): Promise<void> {
    await call('attachments:network', { network });
  }

  /** Stops following the open conversation. */
  function close(): void {
    seq++;
    open = null;
    reading = null;
    rereading = null;
    clearTimeout(timer);
    byMessage.value = {};
    progress.value = {};
  }

  function tray(target: AttachmentTarget): PendingFile[] {
    return pending.value[keyOf(target)] ?? [];
  }

  function add(target: AttachmentTarget, file: TrayFile): void {
    const key = keyOf(target);
    pending.value = { ...pending.value, [key]: [...tray(target), { ...file, key: nextKey++ }] };
    forgetLost(target);
  }

  /** The picked files the last failed send of `target` took out of its tray, and why; null if none. */
  function lostOf(target: AttachmentTarget): { names: string[]; why: LostPicks } | null {
    return lost.value[keyOf(target)] ?? null;
  }

  function forgetLost(target: AttachmentTarget): void {
    const key = keyOf(target);
    if (lost.value[key])
      lost.value = Object.fromEntries(Object.entries(lost.value).filter(([k]) => k !== key));
  }

  /** A send of `files` failed: picked files it used up (or main no longer knows) leave the tray. */
  function dropLostPicks(target: AttachmentTarget, files: PendingFile[], failure: unknown): void {
    const why = lostPicks(errorCodeOf(failure));
    const gone = new Set(files.filter((f) => 'token' in f).map((f) => f.key));
    if (why === null || gone.size === 0) return;
    const key = keyOf(target);
    const names = files.filter((f) => gone.has(f.key)).map((f) => f.name);
    pending.value = { ...pending.value, [key]: tray(target).filter((f) => !gone.has(f.key)) };
    lost.value = { ...lost.value, [key]: { names, why } };
  }

  function remove(target: AttachmentTarget, fileKey: number): void {
    const key = keyOf(target);
    pending.value = { ...pending.value, [key]: tray(target).filter((f) => f.key !== fileKey) };
  }

  /**
   * Sends the tray's files with `caption` (as the send `sendId`, which its
   * Cancel names); the tray empties only once the core has them. A failed or
   * cancelled send keeps them, but for picked files it used up.
   */
  async function sendTray(
    target: AttachmentTarget,
    caption: string,
    sendId?: string,
  ): Promise<number> {
    const files = tray(target);
    forgetLost(target);
    const sent = await call('attachments:send-files', {
      ...target,
      caption,
      ...(sendId ? { sendId } : {}),
      files: files.map((f) => ({
        ...('token' in f ? { token: f.token } : { name: f.name, bytes: f.bytes }),
        ...(f.visual ? { visual: f.visual } : {}),
      })),
    }).catch((failure: unknown) => {
      dropLostPicks(target, files, failure);
      throw failure;
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
    lost.value = {};
  }

  return {
    byMessage,
    pending,
    refused,
    lost,
    progress,
    of,
    load,
    applyProgress,
    applyChanged,
    download,
    cancel,
    reportNetwork,
    reload,
    close,
    tray,
    lostOf,
    add,
    remove,
    sendTray,
    pick,
    pickedBytes,
    save,
    reset,
  };
});
