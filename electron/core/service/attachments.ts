import type { MethodName, MethodOutput } from '../../../shared/ipc/contract.ts';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { attachmentsOf, saveAttachment } from '../attachments/attachment-files.ts';
import { attachmentById } from '../attachments/attachment-rows.ts';
import { queueAttachmentMessage } from '../attachments/compose.ts';
import type { OutgoingFile } from '../attachments/outgoing-file.ts';
import { queueGroupAttachmentMessage } from '../attachments/compose-group.ts';
import {
  cancelTransfer,
  type ConversationScope,
  requestDownload,
} from '../attachments/transfer-control.ts';
import { SottoError } from '../errors.ts';
import { groupMessagesPage, loadGroup } from '../groups/index.ts';
import { messagesPage } from '../history/history.ts';
import type { Profile } from '../profile/profile.ts';
import type { BlobUploads } from '../sync/blobs.ts';
import { chosenFile } from './backups.ts';
import type { ComposeSends } from './compose-sends.ts';
import type { DownloadControl } from './download-control.ts';
import type { CallContext, ParsedInput } from './types.ts';

// The attachment methods of the IPC contract over electron/core/attachments.
// The stored files themselves reach the window through main's attachment:
// scheme (CoreService.mediaSource), not through these.

type AttachmentMethod = Extract<MethodName, `attachments:${string}`>;
type AttachmentHandlers = {
  [M in AttachmentMethod]: (
    input: ParsedInput<M>,
    context: CallContext,
  ) => Promise<MethodOutput<M>> | MethodOutput<M>;
};

/** A dropped or pasted file as the composer takes it. */
const dropped = (file: ParsedInput<'attachments:send-bytes'>['files'][number]): OutgoingFile => ({
  name: file.name,
  bytes: new Uint8Array(file.bytes),
  ...(file.visual ? { visual: file.visual } : {}),
});

/** Messages looked at when listing a conversation's files. */
const LIST_WINDOW = 10_000;

/** What the handlers need from the service: the open profile, a contact's account by conversation, a send kick, uploads, downloads. */
export interface AttachmentServiceHost {
  open(): Profile;
  accountOf(conversationId: number): AccountId;
  sendNow(): void;
  /** The home relay's uploads (NOT_CONFIGURED while no engine runs: the upload job then sends it all later). */
  uploads(): BlobUploads;
  readonly downloads: DownloadControl;
  /** Sends with files the window may cancel while they are sealed. */
  readonly sends: ComposeSends;
}

/** The `attachments:*` handlers. */
export function attachmentHandlers(host: AttachmentServiceHost): AttachmentHandlers {
  const groupRef = (profile: Profile, groupId: string) => {
    const group = loadGroup(profile.db, groupId);
    if (!group) throw new SottoError('UNKNOWN_GROUP');
    return group.ref;
  };
  /** The conversation a transfer call names (an unknown group is UNKNOWN_ATTACHMENT: no oracle). */
  const scopeOf = (
    profile: Profile,
    input: { conversationId: number } | { groupId: string },
  ): ConversationScope => {
    if (!('groupId' in input)) return { conversationId: input.conversationId };
    const group = loadGroup(profile.db, input.groupId);
    if (!group) throw new SottoError('UNKNOWN_ATTACHMENT');
    return { groupRef: group.ref };
  };
  return {
    'attachments:list': (input) => {
      const profile = host.open();
      const rules = host.downloads.rules(profile);
      if ('groupId' in input) {
        const ids = groupMessagesPage(profile.db, groupRef(profile, input.groupId), LIST_WINDOW);
        return attachmentsOf(profile, { groupMessageIds: ids.map((m) => m.id).reverse() }, rules);
      }
      host.accountOf(input.conversationId); // UNKNOWN_CONTACT for a conversation that is not one
      const ids = messagesPage(profile.db, input.conversationId, LIST_WINDOW);
      return attachmentsOf(profile, { messageIds: ids.map((m) => m.id).reverse() }, rules);
    },
    'attachments:download': (input) => {
      const profile = host.open();
      if (requestDownload(profile, scopeOf(profile, input), input.attachmentId))
        host.downloads.downloadNow(profile);
      return summaryOf(profile, input.attachmentId);
    },
    'attachments:cancel': (input) => {
      const profile = host.open();
      return { cancelled: cancelTransfer(profile, scopeOf(profile, input), input.attachmentId) };
    },
    'attachments:cancel-send': (input) => ({
      cancelled: host.sends.cancel(host.open(), input.sendId),
    }),
    'attachments:network': (input) => {
      const profile = host.open();
      // Unmetered now: what the policy held back for the metered connection may go.
      if (host.downloads.setNetwork(input.network)) host.downloads.downloadNow(profile);
      return {};
    },
    'attachments:send': (input, context) => send(input, [{ path: chosenFile(context.file) }]),
    'attachments:send-bytes': (input) => send(input, input.files.map(dropped)),
    'attachments:send-files': (input, context) => {
      // Main resolved the tokens to paths, in order (pick-calls.ts); the core never sees a token's table.
      const picked = [...(context.picked ?? [])];
      const files = input.files.map((file): OutgoingFile => {
        if (!('token' in file)) return dropped(file);
        const next = picked.shift();
        if (!next) throw new SottoError('INVALID_INPUT', 'unresolved pick');
        return { path: next.path, ...(file.visual ? { visual: file.visual } : {}) };
      });
      if (picked.length > 0) throw new SottoError('INVALID_INPUT', 'unresolved pick');
      return send(input, files);
    },
    // Main answers these from its pick table (electron/main/pick-calls.ts); they never reach a core.
    'attachments:pick': () => {
      throw new SottoError('INVALID_INPUT', 'answered by main');
    },
    'attachments:picked-bytes': () => {
      throw new SottoError('INVALID_INPUT', 'answered by main');
    },
    // The save dialog already asked before replacing a file.
    'attachments:save': (input, context) =>
      saveAttachment(host.open(), input.attachmentId, chosenFile(context.file), { force: true }),
  };
  /** One attachment as the window shows it, with the rules in force. */
  function summaryOf(profile: Profile, id: number): MethodOutput<'attachments:download'> {
    const row = attachmentById(profile.db, id);
    const ids = row?.messageId
      ? { messageIds: [row.messageId] }
      : { groupMessageIds: [row?.groupMessageId ?? -1] };
    const found = attachmentsOf(profile, ids, host.downloads.rules(profile)).find(
      (a) => a.id === id,
    );
    if (!found) throw new SottoError('UNKNOWN_ATTACHMENT');
    return found;
  }
  /** Queues one message with `files` to a contact or a group, and kicks the sender. */
  async function send(
    input: { caption: string; sendId?: string | undefined } & (
      { conversationId: number } | { groupId: string }
    ),
    files: readonly OutgoingFile[],
  ): Promise<MethodOutput<'attachments:send'>> {
    const profile = host.open();
    const run = host.sends.begin(input.sendId);
    // Called only once a file is large enough; a throw just leaves the upload to the job.
    const options = { uploads: () => host.uploads(), ...run.options };
    let queued: { id: number; scope: ConversationScope };
    try {
      if ('groupId' in input) {
        const message = await queueGroupAttachmentMessage(
          profile,
          input.groupId,
          files,
          input.caption,
          undefined,
          options,
        );
        queued = { id: message.id, scope: { groupRef: message.groupRef } };
      } else {
        const message = await queueAttachmentMessage(
          profile,
          host.accountOf(input.conversationId),
          files,
          input.caption,
          undefined,
          options,
        );
        queued = { id: message.id, scope: { conversationId: message.conversationId } };
      }
    } catch (error) {
      run.refused();
      throw error;
    }
    const ref = 'groupId' in input ? { groupMessageIds: [queued.id] } : { messageIds: [queued.id] };
    const ids = attachmentsOf(profile, ref, host.downloads.rules(profile)).map((a) => a.id);
    run.stored(profile, queued.scope, ids);
    host.sendNow();
    // Read after a Cancel that landed between the seal's end and the commit (its uploads failed).
    const attachments = attachmentsOf(profile, ref, host.downloads.rules(profile));
    return { messageId: queued.id, attachments };
  }
}
