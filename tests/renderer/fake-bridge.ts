// An in-memory stand-in for the preload's `window.sotto` (SottoApi), so stores
// and components can be tested in happy-dom without Electron or a core. It
// keeps just enough state to behave like the contract says (phases, paging,
// drafts, search); the real core behind the real contract is covered by the
// Chromium e2e suite (tests/e2e).
import { muteEnd } from '../../shared/mute.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import { type AccountId, accountIdSchema } from '../../shared/protocol/account-id.ts';
import type {
  AppState,
  BackupSummary,
  Contact,
  Conversation,
  EventName,
  EventPayload,
  Message,
  MethodInput,
  MethodName,
  MethodOutput,
  Result,
  Settings,
  SottoApi,
  SyncStatus,
} from '../../shared/ipc/contract.ts';
import type { AttachmentSummaryView } from '../../shared/ipc/attachments.ts';
import { FakeGroups } from './fake-groups.ts';

type Handler<M extends MethodName> = (
  input: MethodInput<M>,
) => MethodOutput<M> | Promise<MethodOutput<M>>;

export interface FakeConversation extends Conversation {
  draft: string | null;
  verified: boolean;
}

const ok = <T>(value: T): Result<T> => ({ ok: true, value });

class FakeError extends Error {
  constructor(readonly code: ErrorCode) {
    super(code);
  }
}

/**
 * A fake account id: a real one (UUID-shaped, branded) spelling `label` in hex,
 * so a test can name accounts and the fakes still hand the renderer what the
 * contract types say.
 */
export function fakeAccountId(label: string): AccountId {
  const hex = Array.from(label, (c) => c.charCodeAt(0).toString(16).padStart(2, '0'))
    .join('')
    .padEnd(32, '0')
    .slice(0, 32);
  return accountIdSchema.parse(
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  );
}

export class FakeBridge {
  state: AppState = {
    phase: 'locked',
    accountId: fakeAccountId('ACCOUNT'),
    displayName: 'Me',
    keychainSecure: false,
    unlockWith: 'passphrase',
  };
  passphrase = 'right passphrase';
  settings: Settings = {
    relay: 'wss://relay.example',
    autoLockMinutes: 15,
    theme: 'system',
    language: 'en',
    notifications: true,
    notificationContent: 'name',
    allowInsecureRelay: false,
    autoDownloadImagesMb: 10,
    autoDownloadOnMetered: false,
  };
  sync: SyncStatus = { connection: 'online', outbox: 0, backlog: null, unread: 0 };
  conversations: FakeConversation[] = [];
  contacts: Contact[] = [];
  /** All messages, any order; paging sorts by (sentAt, id). */
  messages: Message[] = [];
  /** Every call, in order: [method, input]. */
  readonly calls: [MethodName, unknown][] = [];
  /** Attachments the fake holds (tests add received ones here). */
  attachments: AttachmentSummaryView[] = [];
  /** What main's open/save dialog returns next; null: the user closed it. */
  dialogFile: string | null = null;
  /** Pick tokens `attachments:pick` handed out and not yet sent, with their file names. */
  readonly picks = new Map<string, string>();
  /** The connection the renderer last reported (`attachments:network`). */
  network: string | null = null;
  /** Attachment ids written by `attachments:save`. */
  readonly saved: number[] = [];
  /** What `backup:verify` and `backup:restore` find in "the file the user picked". */
  backupSummary: BackupSummary = {
    accountId: fakeAccountId('ACCOUNT'),
    createdAt: Date.UTC(2024, 5, 1, 12),
    appVersion: '1.0.0',
    messages: 1234,
    contacts: 3,
    conversations: 3,
  };
  /** The passphrase that opens that file (a returned recovery key opens it too). */
  backupPassphrase = 'backup passphrase';
  /** What `backup:export` with `recoveryKey: true` generates. */
  recoveryKey = 'ABCDE-FGHJK-LMNPQ-RSTVW-XYZ23-45678';
  /** Messages the first merge restore adds (a second restore of the same file adds none, as in the core). */
  restoreAdds = 42;
  private restoredOnce = false;
  /** Each backup operation reports this many steps. */
  backupSteps = 4;
  /**
   * While true, a backup operation stops after its first progress event until
   * `finishBackup()` (or `backup:cancel`, which ends it with CANCELLED).
   */
  holdBackups = false;
  private heldBackup: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private backupRunning = false;
  /**
   * While true, a send with files waits as if its files were being sealed,
   * until `finishSends()` or its `attachments:cancel-send` (CANCELLED).
   */
  holdSends = false;
  private readonly heldSends = new Map<
    string,
    { resolve: () => void; reject: (e: Error) => void }
  >();
  /** Every send id the fake has seen (a cancel of any other is UNKNOWN_SEND). */
  readonly sendIds = new Set<string>();
  private readonly failures = new Map<MethodName, ErrorCode>();
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  private nextId = 1_000_000;

  /** Makes the next calls of `method` fail with `code` (until cleared with `succeed`). */
  fail(method: MethodName, code: ErrorCode): void {
    this.failures.set(method, code);
  }

  succeed(method: MethodName): void {
    this.failures.delete(method);
  }

  callsOf(method: MethodName): unknown[] {
    return this.calls.filter(([m]) => m === method).map(([, input]) => input);
  }

  /** Delivers a push event, as the preload would. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners.get(event) ?? [])
      (listener as (p: EventPayload<E>) => void)(payload);
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  addConversation(partial: Partial<FakeConversation> & { id: number }): FakeConversation {
    const conversation: FakeConversation = {
      accountId: fakeAccountId(`ACC${partial.id}`),
      displayName: `Contact ${partial.id}`,
      lastMessageAt: null,
      lastMessagePreview: null,
      unreadCount: 0,
      identityChanged: false,
      hasDraft: false,
      failedCount: 0,
      mutedUntil: null,
      draft: null,
      verified: false,
      ...partial,
    };
    this.conversations.push(conversation);
    this.contacts.push({
      accountId: conversation.accountId,
      displayName: conversation.displayName,
      conversationId: conversation.id,
      trust: conversation.identityChanged ? 'changed' : 'trusted',
      verified: conversation.verified,
      blocked: false,
    });
    return conversation;
  }

  /** Adds `count` messages to a conversation, one a minute from `start`; ids start at `firstId`. */
  addMessages(
    conversationId: number,
    count: number,
    options: { start?: number; firstId?: number; body?: (i: number) => string } = {},
  ): void {
    const start = options.start ?? Date.UTC(2024, 0, 1);
    const firstId = options.firstId ?? conversationId * 1_000_000 + 1;
    for (let i = 0; i < count; i++) {
      const outgoing = i % 3 === 0;
      this.messages.push({
        id: firstId + i,
        uuid: `uuid-${firstId + i}`,
        conversationId,
        outgoing,
        senderAccount: fakeAccountId(outgoing ? 'ACCOUNT' : `ACC${conversationId}`),
        senderName: outgoing ? null : `Contact ${conversationId}`,
        sentAt: start + i * 60_000,
        receivedAt: start + i * 60_000,
        body: options.body?.(i) ?? `message number ${i}`,
        status: outgoing ? 'delivered' : 'received',
      });
    }
  }

  private history(conversationId: number): Message[] {
    return this.messages
      .filter((m) => m.conversationId === conversationId)
      .sort((a, b) => a.sentAt - b.sentAt || a.id - b.id);
  }

  private conversation(conversationId: number): FakeConversation {
    const found = this.conversations.find((c) => c.id === conversationId);
    if (!found) throw new FakeError('UNKNOWN_CONTACT');
    return found;
  }

  /** Lets every held send with files (see `holdSends`) be stored. */
  finishSends(): void {
    for (const held of this.heldSends.values()) held.resolve();
    this.heldSends.clear();
  }

  /** A send's "seal": held while `holdSends`, else at once. */
  private async sealing(sendId: string | undefined): Promise<void> {
    if (sendId === undefined) return;
    if (this.sendIds.has(sendId)) throw new FakeError('INVALID_INPUT');
    this.sendIds.add(sendId);
    if (!this.holdSends) return;
    await new Promise<void>((resolve, reject) => this.heldSends.set(sendId, { resolve, reject }));
  }

  /** Lets a held backup operation (see `holdBackups`) run to its end. */
  finishBackup(): void {
    this.heldBackup?.resolve();
    this.heldBackup = null;
  }

  /** True while a held backup operation waits. */
  get backupHeld(): boolean {
    return this.heldBackup !== null;
  }

  /** One backup operation at a time, with progress events, as the core's BackupRun. */
  private async runBackup<T>(
    operation: EventPayload<'backup:progress'>['operation'],
    phase: EventPayload<'backup:progress'>['phase'],
    work: () => T,
  ): Promise<T> {
    if (this.backupRunning) throw new FakeError('INVALID_INPUT');
    this.backupRunning = true;
    try {
      const total = this.backupSteps;
      this.emit('backup:progress', { operation, phase, done: 0, total });
      if (this.holdBackups) {
        await new Promise<void>((resolve, reject) => {
          this.heldBackup = { resolve, reject };
        });
      }
      for (let done = 1; done <= total; done++)
        this.emit('backup:progress', { operation, phase, done, total });
      return work();
    } finally {
      this.backupRunning = false;
    }
  }

  private opensBackup(passphrase: string): boolean {
    return passphrase === this.backupPassphrase || passphrase === this.recoveryKey;
  }

  private requireUnlocked(): void {
    if (this.state.phase !== 'unlocked') throw new FakeError('APP_LOCKED');
  }

  /** Groups, their messages and deliveries (fake-groups.ts). */
  readonly groups = new FakeGroups(() => this.contacts);

  private readonly handlers: { [M in MethodName]: Handler<M> } = {
    ...this.groups.handlers((code) => {
      throw new FakeError(code);
    }),
    'app:state': () => this.state,
    'profile:create': (input) => {
      this.state = {
        phase: 'unlocked',
        accountId: fakeAccountId('NEWACCOUNT'),
        displayName: input.displayName,
        keychainSecure: this.state.keychainSecure,
        unlockWith: input.useKeychain ? 'keychain' : 'passphrase',
      };
      if (input.passphrase) this.passphrase = input.passphrase;
      this.settings = { ...this.settings, relay: input.relay };
      return this.state;
    },
    'profile:unlock': (input) => {
      if (this.state.unlockWith === 'passphrase' && input.passphrase !== this.passphrase)
        throw new FakeError('WRONG_PASSPHRASE');
      this.state = { ...this.state, phase: 'unlocked' };
      return this.state;
    },
    'profile:lock': () => {
      this.state = { ...this.state, phase: 'locked' };
      return this.state;
    },
    'profile:invite': () => ({ link: 'sotto://invite/1#fake-invite' }),
    /** A new account id, as an identity reset makes. */
    'profile:reset-identity': (input) => {
      this.requireUnlocked();
      if (this.state.unlockWith === 'passphrase' && input.passphrase !== this.passphrase)
        throw new FakeError('WRONG_PASSPHRASE');
      this.state = { ...this.state, accountId: fakeAccountId('RESETACCOUNT') };
      return this.state;
    },
    'profile:change-passphrase': (input) => {
      if (input.current !== this.passphrase) throw new FakeError('WRONG_PASSPHRASE');
      this.passphrase = input.next;
      return {};
    },
    'settings:get': () => (this.requireUnlocked(), this.settings),
    'settings:set': (patch) => {
      this.requireUnlocked();
      this.settings = { ...this.settings, ...patch };
      return this.settings;
    },
    'contacts:add': (input) => {
      if (!input.invite.startsWith('sotto://invite/')) throw new FakeError('INVALID_INVITE');
      const id = this.conversations.length + 1;
      this.addConversation({ id, displayName: `Invited ${id}` });
      return this.contacts.at(-1) as Contact;
    },
    'contacts:list': () => (this.requireUnlocked(), this.contacts),
    'contacts:safety-number': () => ({ digits: '0123456789'.repeat(6), scannable: 'AAECAw==' }),
    'contacts:verify': ({ conversationId }) =>
      this.updateContact(conversationId, { verified: true }),
    'contacts:accept-identity': ({ conversationId }) => {
      this.conversation(conversationId).identityChanged = false;
      return this.updateContact(conversationId, { trust: 'trusted' });
    },
    'contacts:block': ({ conversationId }) => this.updateContact(conversationId, { blocked: true }),
    'contacts:unblock': ({ conversationId }) =>
      this.updateContact(conversationId, { blocked: false }),
    'conversations:list': () => {
      this.requireUnlocked();
      return this.conversations.map(({ draft: _draft, verified: _verified, ...row }) => ({
        ...row,
      }));
    },
    'conversations:get': ({ conversationId }) => {
      const c = this.conversation(conversationId);
      return { ...c, messageCount: this.history(conversationId).length };
    },
    // The core's rule (shared/mute.ts): an end time, null for not muted.
    'conversations:mute': ({ conversationId, durationMs }) => {
      const c = this.conversation(conversationId);
      c.mutedUntil = muteEnd(durationMs, Date.now());
      return { ...c };
    },
    'conversations:unmute': ({ conversationId }) => {
      const c = this.conversation(conversationId);
      c.mutedUntil = null;
      return { ...c };
    },
    'conversations:mark-read': ({ conversationId }) => {
      this.conversation(conversationId).unreadCount = 0;
      return {};
    },
    'conversations:set-draft': ({ conversationId, draft }) => {
      const c = this.conversation(conversationId);
      c.draft = draft ?? null;
      c.hasDraft = draft !== null && draft !== undefined;
      return {};
    },
    'messages:page': ({ conversationId, limit, before, after }) => {
      const all = this.history(conversationId);
      const key = (m: Message) => [m.sentAt, m.id] as const;
      const less = (a: readonly [number, number], b: { sentAt: number; id: number }) =>
        a[0] < b.sentAt || (a[0] === b.sentAt && a[1] < b.id);
      const more = (a: readonly [number, number], b: { sentAt: number; id: number }) =>
        a[0] > b.sentAt || (a[0] === b.sentAt && a[1] > b.id);
      if (after) return all.filter((m) => more(key(m), after)).slice(0, limit);
      const older = before ? all.filter((m) => less(key(m), before)) : all;
      return older.slice(-limit).reverse();
    },
    'messages:around': ({ messageId, limit }) => {
      const target = this.messages.find((m) => m.id === messageId);
      if (!target) throw new FakeError('INVALID_INPUT');
      const all = this.history(target.conversationId);
      const index = all.findIndex((m) => m.id === messageId);
      const start = Math.max(0, index - Math.floor(limit / 2));
      return { conversationId: target.conversationId, messages: all.slice(start, start + limit) };
    },
    'messages:send': ({ conversationId, body }) => {
      const c = this.conversation(conversationId);
      if (c.identityChanged) throw new FakeError('IDENTITY_CHANGED');
      const now = Date.now();
      const message: Message = {
        id: this.nextId++,
        uuid: `uuid-${this.nextId}`,
        conversationId,
        outgoing: true,
        senderAccount: fakeAccountId('ACCOUNT'),
        senderName: null,
        sentAt: now,
        receivedAt: now,
        body,
        status: 'queued',
      };
      this.messages.push(message);
      return message;
    },
    'messages:retry': ({ messageId }) => {
      const message = this.messages.find((m) => m.id === messageId);
      if (!message) throw new FakeError('INVALID_INPUT');
      message.status = 'queued';
      return { ...message };
    },
    'messages:delete': (input) => this.deleteMessages(input),
    'messages:search': ({ query, limit }) => {
      const q = query.toLowerCase();
      return this.messages.filter((m) => m.body.toLowerCase().includes(q)).slice(0, limit);
    },
    'sync:status': () => this.sync,
    'backup:export': (input) =>
      this.runBackup('export', 'export', () => {
        this.requireUnlocked();
        // The core's strength check, roughly.
        if (input.passphrase !== undefined && input.passphrase.length < 12)
          throw new FakeError('WEAK_PASSPHRASE');
        return {
          recoveryKey: input.recoveryKey ? this.recoveryKey : null,
          messages: this.messages.length,
          bytes: 4096 + this.messages.length * 100,
        };
      }),
    'backup:verify': ({ passphrase }) =>
      this.runBackup('verify', 'verify', () => {
        if (!this.opensBackup(passphrase)) throw new FakeError('WRONG_BACKUP_PASSPHRASE');
        return this.backupSummary;
      }),
    'backup:restore': (input) =>
      this.runBackup('restore', 'import', () => {
        if (this.state.phase === 'no-profile') {
          if (
            !input.protect ||
            (input.protect.passphrase === undefined &&
              !(input.protect.useKeychain && this.state.keychainSecure))
          ) {
            throw new FakeError('PASSPHRASE_REQUIRED');
          }
          if (!this.opensBackup(input.passphrase)) throw new FakeError('WRONG_BACKUP_PASSPHRASE');
          if (input.protect.passphrase !== undefined) this.passphrase = input.protect.passphrase;
          this.state = {
            phase: 'unlocked',
            accountId: this.backupSummary.accountId,
            displayName: 'Restored',
            keychainSecure: this.state.keychainSecure,
            unlockWith: input.protect.passphrase === undefined ? 'keychain' : 'passphrase',
          };
          return {
            state: this.state,
            added: this.backupSummary.messages,
            summary: this.backupSummary,
          };
        }
        this.requireUnlocked();
        if (this.state.unlockWith === 'passphrase' && input.profilePassphrase !== this.passphrase)
          throw new FakeError('WRONG_PASSPHRASE');
        if (!this.opensBackup(input.passphrase)) throw new FakeError('WRONG_BACKUP_PASSPHRASE');
        if (this.backupSummary.accountId !== this.state.accountId)
          throw new FakeError('BACKUP_WRONG_ACCOUNT');
        const added = this.restoredOnce ? 0 : this.restoreAdds;
        this.restoredOnce = true;
        return { state: this.state, added, summary: this.backupSummary };
      }),
    'backup:cancel': () => {
      this.heldBackup?.reject(new FakeError('CANCELLED'));
      this.heldBackup = null;
      return {};
    },
    'export:conversation': ({ conversationId, from, to }) =>
      this.runBackup('export-conversation', 'export', () => {
        this.requireUnlocked();
        const messages = this.messages.filter(
          (m) =>
            (conversationId === null || m.conversationId === conversationId) &&
            (from === undefined || m.sentAt >= from) &&
            (to === undefined || m.sentAt <= to),
        );
        return { messages: messages.length };
      }),
    // 1:1 attachments only (the group fake keeps none); the dialogs answer `dialogFile`.
    'attachments:list': (input) => {
      this.requireUnlocked();
      if (!('conversationId' in input)) {
        const inGroup = new Set(
          this.groups.messages.filter((m) => m.groupId === input.groupId).map((m) => m.id),
        );
        return this.attachments.filter(
          (a) => a.groupMessageId !== null && inGroup.has(a.groupMessageId),
        );
      }
      const ids = new Set(this.history(input.conversationId).map((m) => m.id));
      return this.attachments.filter((a) => a.messageId !== null && ids.has(a.messageId));
    },
    'attachments:send': (input) => {
      if (this.dialogFile === null) throw new FakeError('CANCELLED');
      const name = this.dialogFile;
      return this.sendFiles(input, [{ name, size: 1234 }]);
    },
    // The Attach button: `dialogFile` becomes one picked file (a .png or .webm is measurable;
    // its bytes are never readable here, as for a file gone since the pick).
    'attachments:pick': () => {
      if (this.dialogFile === null) throw new FakeError('CANCELLED');
      const token = String(this.nextId++).padStart(43, 'T');
      const name = this.dialogFile.split('/').at(-1) ?? this.dialogFile;
      this.picks.set(token, name);
      const contentType = name.endsWith('.png')
        ? 'image/png'
        : name.endsWith('.webm')
          ? 'video/webm'
          : 'application/pdf';
      const measurable = contentType !== 'application/pdf';
      return [{ token, name, size: 1234, contentType, measurable }];
    },
    'attachments:picked-bytes': () => {
      throw new FakeError('ATTACHMENT_PICK_EXPIRED');
    },
    'attachments:send-files': async (input) => {
      await this.sealing(input.sendId);
      return this.sendFiles(
        input,
        input.files.map((f) => {
          if (!('token' in f)) return { name: f.name, size: f.bytes.byteLength, visual: f.visual };
          const name = this.picks.get(f.token);
          if (name === undefined) throw new FakeError('ATTACHMENT_PICK_EXPIRED');
          this.picks.delete(f.token);
          return { name, size: 1234, visual: f.visual };
        }),
      );
    },
    'attachments:cancel-send': ({ sendId }) => {
      if (!this.sendIds.has(sendId)) throw new FakeError('UNKNOWN_SEND');
      const held = this.heldSends.get(sendId);
      if (!held) return { cancelled: false };
      this.heldSends.delete(sendId);
      held.reject(new FakeError('CANCELLED'));
      return { cancelled: true };
    },
    'attachments:send-bytes': (input) =>
      this.sendFiles(
        input,
        input.files.map((f) => ({ name: f.name, size: f.bytes.byteLength, visual: f.visual })),
      ),
    'attachments:save': ({ attachmentId }) => {
      const attachment = this.attachments.find((a) => a.id === attachmentId);
      if (!attachment || attachment.state === 'pending' || attachment.state === 'failed')
        throw new FakeError('UNKNOWN_ATTACHMENT');
      if (this.dialogFile === null) throw new FakeError('CANCELLED');
      this.saved.push(attachmentId);
      return { size: attachment.size };
    },
    // A click starts the download (the test drives progress with emit); a second click changes nothing.
    'attachments:download': ({ attachmentId }) => {
      const attachment = this.attachments.find((a) => a.id === attachmentId && !a.outgoing);
      if (!attachment) throw new FakeError('UNKNOWN_ATTACHMENT');
      if (attachment.state === 'pending') attachment.waiting = false;
      return { ...attachment };
    },
    'attachments:cancel': ({ attachmentId }) => {
      const attachment = this.attachments.find((a) => a.id === attachmentId);
      if (!attachment) throw new FakeError('UNKNOWN_ATTACHMENT');
      const running = attachment.outgoing
        ? attachment.state === 'uploading'
        : attachment.state === 'pending' && !attachment.waiting;
      if (!running) return { cancelled: false };
      if (attachment.outgoing) Object.assign(attachment, { state: 'failed', error: 'CANCELLED' });
      else attachment.waiting = true;
      return { cancelled: true };
    },
    'attachments:network': ({ network }) => {
      this.network = network;
      return {};
    },
  };

  private sendFiles(
    input: { caption: string } & ({ conversationId: number } | { groupId: string }),
    files: {
      name: string;
      size: number;
      visual?: { width: number; height: number; preview?: string };
    }[],
  ) {
    if (!('conversationId' in input)) throw new FakeError('UNKNOWN_GROUP');
    const conversationId = input.conversationId;
    const message = this.handlers['messages:send']({ conversationId, body: input.caption || ' ' });
    if (message instanceof Promise) throw new Error('synchronous');
    message.body = input.caption;
    const attachments = files.map((f): AttachmentSummaryView => {
      const image = /\.(png|jpe?g|gif|webp)$/i.test(f.name);
      return {
        id: this.nextId++,
        messageId: message.id,
        groupMessageId: null,
        outgoing: true,
        contentType: image ? 'image/png' : 'application/octet-stream',
        fileName: image ? null : f.name,
        size: f.size,
        width: f.visual?.width ?? null,
        height: f.visual?.height ?? null,
        preview: f.visual?.preview ?? null,
        durationMs: null,
        state: 'uploading',
        error: null,
        waiting: false,
      };
    });
    this.attachments.push(...attachments);
    return { messageId: message.id, attachments };
  }

  /** The core's rule: every id must be a message of that conversation (else UNKNOWN_MESSAGE, nothing deleted). */
  private deleteMessages(input: MethodInput<'messages:delete'>): MethodOutput<'messages:delete'> {
    const ids = new Set(input.messageIds);
    const list: { id: number }[] =
      'conversationId' in input
        ? this.messages.filter((m) => m.conversationId === input.conversationId)
        : this.groups.messages.filter((m) => m.groupId === input.groupId);
    if (list.filter((m) => ids.has(m.id)).length !== ids.size)
      throw new FakeError('UNKNOWN_MESSAGE');
    if ('conversationId' in input) {
      this.messages = this.messages.filter((m) => !ids.has(m.id));
      this.attachments = this.attachments.filter(
        (a) => a.messageId === null || !ids.has(a.messageId),
      );
      const newest = this.messages
        .filter((m) => m.conversationId === input.conversationId)
        .sort((a, b) => b.sentAt - a.sentAt || b.id - a.id)[0];
      // As the core: the list's place and preview come from what stayed (none: NULL, listed last).
      const conversation = this.conversation(input.conversationId);
      conversation.lastMessagePreview = newest?.body ?? null;
      conversation.lastMessageAt = newest?.sentAt ?? null;
    } else {
      const kept = this.groups.messages.filter((m) => !ids.has(m.id));
      this.groups.messages.splice(0, this.groups.messages.length, ...kept);
    }
    return { messageIds: input.messageIds };
  }

  private updateContact(conversationId: number, patch: Partial<Contact>): Contact {
    const index = this.contacts.findIndex((c) => c.conversationId === conversationId);
    if (index < 0) throw new FakeError('UNKNOWN_CONTACT');
    const next = { ...(this.contacts[index] as Contact), ...patch };
    this.contacts[index] = next;
    if (patch.verified !== undefined) this.conversation(conversationId).verified = patch.verified;
    return next;
  }

  /** The object installed as `window.sotto`. */
  readonly api: SottoApi = (() => {
    const api: Record<string, unknown> = {};
    for (const method of Object.keys(this.handlers) as MethodName[]) {
      api[method] = async (input: unknown) => {
        this.calls.push([method, input]);
        const failure = this.failures.get(method);
        if (failure) return { ok: false, code: failure };
        try {
          const handler = this.handlers[method] as (input: unknown) => unknown;
          // Copies, as structured clone over IPC would make.
          return ok(structuredClone(await handler(input)));
        } catch (error) {
          if (error instanceof FakeError) return { ok: false, code: error.code };
          throw error;
        }
      };
    }
    api['on'] = (event: EventName, listener: (payload: never) => void) => {
      const set = this.listeners.get(event) ?? new Set();
      this.listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    };
    return api as SottoApi;
  })();
}

/** Installs a fresh fake as `window.sotto` and returns it. */
export function installFakeBridge(): FakeBridge {
  const fake = new FakeBridge();
  Object.defineProperty(window, 'sotto', { value: fake.api, configurable: true, writable: false });
  return fake;
}
