import { existsSync } from 'node:fs';
import type {
  AppState,
  ConnectionState,
  Contact,
  ConversationDetail,
  EventName,
  EventPayload,
  MethodName,
  MethodOutput,
  Settings,
  SyncStatus,
} from '../../../shared/ipc/contract.ts';
import { hasCode, SottoError } from '../errors.ts';
import { blockContact, unblockContact } from '../contacts/block.ts';
import { getContact, type Contact as CoreContact } from '../contacts/contacts.ts';
import { addContactFromInvite } from '../contacts/invite.ts';
import { acceptIdentityChange, markVerified, safetyNumber } from '../crypto/trust.ts';
import { ownDestination, resetIdentity } from '../crypto/identity-reset.ts';
import {
  getMessage,
  listConversations,
  markRead,
  messagesAfter,
  messagesAround,
  messagesPage,
  searchMessages,
} from '../history/history.ts';
import { readKeyFile } from '../keys/keyfile.ts';
import { assertStrongPassphrase } from '../keys/passphrase-policy.ts';
import { log } from '../log.ts';
import { outboxSize, queueText, retryMessage } from '../messaging/outbox.ts';
import type { EnvelopeOutcome } from '../messaging/receive.ts';
import { profileInvite } from '../profile/invite.ts';
import { profilePaths } from '../profile/paths.ts';
import { Profile } from '../profile/profile.ts';
import { readSettings, writeSettings } from './settings.ts';
import { sleep } from '../sync/backoff.ts';
import { SyncEngine, type SyncEvent } from '../sync/engine.ts';
import { setHomeRelay } from '../sync/home-relay-setting.ts';
import { checkOwnRelayAddress } from '../sync/relay-address.ts';
import { getSetting } from '../profile/settings.ts';
import type {
  CallContext,
  CoreService,
  EventListener,
  ParsedInput,
  ServiceOptions,
} from './types.ts';
import { BackupRun, chosenFile, summaryOf } from './backups.ts';
import { exportBackup } from '../backup/export.ts';
import { importBackup } from '../backup/import.ts';
import { generateRecoveryKey } from '../backup/passphrase.ts';
import { verifyBackup } from '../backup/verify.ts';
import { exportConversation } from '../backup/readable/export-conversation.ts';
import { StatusWatch } from './status-watch.ts';
import { groupHandlers } from './groups.ts';

/** A receive pass that stores at least this many messages is shown as a backlog. */
const BACKLOG_THRESHOLD = 50;
/** Methods that work without an unlocked profile (restore: at first run, into a new profile). */
const OPEN_METHODS = new Set<MethodName>([
  'app:state',
  'profile:create',
  'profile:unlock',
  'backup:restore',
  'backup:verify',
  'backup:cancel',
]);

type Handlers = {
  [M in MethodName]: (
    input: ParsedInput<M>,
    context: CallContext,
  ) => Promise<MethodOutput<M>> | MethodOutput<M>;
};

/** Creates the core service for one profile directory (see CoreService). */
export function createCoreService(options: ServiceOptions): CoreService {
  return new AppService(options);
}

/**
 * The contract's implementation over the headless core: one profile, its sync
 * engine running in the background, push events for what changed. "Locked"
 * hides the profile from the UI while the core keeps receiving; the key stays
 * in this process until `close` (docs/threat-model.md).
 */
class AppService implements CoreService {
  private profile: Profile | undefined;
  private engine: SyncEngine | undefined;
  private syncLoop: { readonly abort: AbortController; readonly done: Promise<void> } | undefined;
  private locked = false;
  private connection: ConnectionState = 'connecting';
  private backlog: { received: number } | null = null;
  private lastStatus = '';
  private readonly watch = new StatusWatch();
  private readonly listeners = new Set<EventListener>();
  private readonly handlers: Handlers;
  private readonly backups = new BackupRun((payload) => this.emit('backup:progress', payload));

  constructor(private readonly options: ServiceOptions) {
    this.handlers = {
      ...groupHandlers({
        open: () => this.open(),
        accountOf: (conversationId) => this.contactOf(conversationId).accountId,
        sendNow: () => this.sendNow(),
      }),
      'app:state': () => this.state(),
      'profile:create': (input) => this.create(input),
      'profile:unlock': (input) => this.unlock(input.passphrase),
      'profile:lock': (input) => this.lock(input.reason ?? 'user'),
      'profile:invite': () => this.invite(),
      'profile:change-passphrase': async (input) => {
        // The core's one passphrase rule decides (WEAK_PASSPHRASE); the UI's meter is only a hint.
        await this.open().changePassphrase(input.current, input.next, this.options.kdfCost);
        return {};
      },
      'settings:get': () => readSettings(this.open().db),
      'settings:set': (input) => this.setSettings(input),
      'contacts:add': (input) => this.addContact(input.invite),
      'contacts:list': () => this.contacts(),
      'contacts:safety-number': (input) => {
        const profile = this.open();
        const number = safetyNumber(profile, this.contactOf(input.conversationId).accountId);
        return {
          digits: number.digits,
          scannable: Buffer.from(number.scannable).toString('base64'),
        };
      },
      'contacts:verify': (input) => this.trust(input.conversationId, markVerified),
      'contacts:accept-identity': (input) => this.trust(input.conversationId, acceptIdentityChange),
      'contacts:block': (input) => this.block(input.conversationId, true),
      'contacts:unblock': (input) => this.block(input.conversationId, false),
      'profile:reset-identity': (input) => this.resetIdentity(input.passphrase),
      'conversations:list': () => listConversations(this.open().db),
      'conversations:get': (input) => this.conversation(input.conversationId),
      'conversations:mark-read': (input) => {
        const profile = this.open();
        this.contactOf(input.conversationId);
        profile.commit(undefined, (db) => markRead(db, input.conversationId));
        this.emit('conversations:changed', {});
        return {};
      },
      'conversations:set-draft': (input) => {
        const profile = this.open();
        this.contactOf(input.conversationId);
        const draft = input.draft === null || input.draft.trim() === '' ? null : input.draft;
        profile.commit(undefined, (db) =>
          db
            .prepare('UPDATE conversations SET draft = ? WHERE id = ?')
            .run([draft, input.conversationId]),
        );
        return {};
      },
      'messages:page': (input) => {
        const db = this.open().db;
        if (input.before && input.after) throw new SottoError('INVALID_INPUT', 'before and after');
        const page = input.after
          ? messagesAfter(db, input.conversationId, input.limit, input.after)
          : messagesPage(db, input.conversationId, input.limit, input.before);
        this.watch.track(page);
        return page;
      },
      'messages:around': (input) => {
        const messages = messagesAround(this.open().db, input.messageId, input.limit);
        if (!messages?.[0]) throw new SottoError('INVALID_INPUT', 'no such message');
        this.watch.track(messages);
        return { conversationId: messages[0].conversationId, messages };
      },
      'messages:send': (input) => this.send(input.conversationId, input.body),
      'messages:retry': (input) => {
        const profile = this.open();
        retryMessage(profile, input.messageId);
        const message = this.message(input.messageId);
        this.watch.track([message]);
        this.emit('message:status', {
          messageId: message.id,
          conversationId: message.conversationId,
          status: message.status,
        });
        this.sendNow();
        return message;
      },
      'messages:search': (input) => searchMessages(this.open().db, input.query, input.limit),
      'sync:status': () => this.syncStatus(),
      'backup:export': (input, context) => this.exportBackup(input, chosenFile(context.file)),
      'backup:verify': (input, context) =>
        this.backups.run('verify', async (run) =>
          summaryOf((await verifyBackup(chosenFile(context.file), input.passphrase, run)).manifest),
        ),
      'backup:restore': (input, context) => this.restore(input, chosenFile(context.file)),
      'backup:cancel': () => {
        this.backups.cancel();
        return {};
      },
      'export:conversation': (input, context) =>
        this.exportConversation(input, chosenFile(context.file)),
    };
  }

  async call<M extends MethodName>(
    method: M,
    input: ParsedInput<M>,
    context: CallContext = {},
  ): Promise<MethodOutput<M>> {
    if (!OPEN_METHODS.has(method)) this.open();
    const handler = this.handlers[method] as (
      input: ParsedInput<M>,
      context: CallContext,
    ) => Promise<MethodOutput<M>> | MethodOutput<M>;
    return handler(input, context);
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.stopSync();
    await this.profile?.close();
    this.profile = undefined;
  }

  // --- profile lifecycle ---------------------------------------------------

  private state(): AppState {
    const paths = profilePaths(this.options.profileDir);
    const exists = this.profile !== undefined || existsSync(paths.keyFile);
    return {
      phase: !exists ? 'no-profile' : this.profile && !this.locked ? 'unlocked' : 'locked',
      accountId: this.profile && !this.locked ? this.profile.account.accountId : null,
      displayName: this.profile && !this.locked ? this.profile.account.displayName : null,
      keychainSecure: this.options.keychain?.isSecure ?? false,
      unlockWith: exists ? this.unlockMethod() : null,
    };
  }

  /** 'keychain' if the key file has a keychain wrapper this machine can use, else 'passphrase'. */
  private unlockMethod(): 'keychain' | 'passphrase' {
    try {
      const file = readKeyFile(profilePaths(this.options.profileDir).keyFile);
      const hasKeychain = file.wrappers.some((w) => w.type === 'keychain');
      return hasKeychain && this.options.keychain?.isSecure ? 'keychain' : 'passphrase';
    } catch {
      return 'passphrase'; // a damaged key file is reported when unlocking
    }
  }

  private async create(input: ParsedInput<'profile:create'>): Promise<AppState> {
    if (this.profile || existsSync(profilePaths(this.options.profileDir).keyFile))
      throw new SottoError('PROFILE_EXISTS');
    const keychain = input.useKeychain ? this.options.keychain : undefined;
    if (input.useKeychain && !keychain?.isSecure && input.passphrase === undefined)
      throw new SottoError('PASSPHRASE_REQUIRED');
    // Name (INVALID_NAME) and passphrase (WEAK_PASSPHRASE) are checked by Profile.create before it writes anything.
    // The address is checked before the profile exists: a refused address leaves nothing behind.
    const allowInsecure = input.allowInsecureRelay === true;
    checkOwnRelayAddress(input.relay, allowInsecure);
    const profile = await Profile.create(this.options.profileDir, {
      displayName: input.displayName,
      ...(input.passphrase !== undefined ? { passphrase: input.passphrase } : {}),
      ...(keychain ? { keychain } : {}),
      ...(this.options.kdfCost ? { kdfCost: this.options.kdfCost } : {}),
    });
    setHomeRelay(profile, input.relay, { allowInsecure });
    this.opened(profile);
    return this.state();
  }

  private async unlock(passphrase: string | undefined): Promise<AppState> {
    const unlockWith = {
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(this.options.keychain ? { keychain: this.options.keychain } : {}),
    };
    if (this.profile) {
      if (this.locked) await this.profile.verifyUnlock(unlockWith);
      this.locked = false;
    } else {
      this.opened(await Profile.open(this.options.profileDir, unlockWith));
    }
    return this.state();
  }

  private lock(reason: 'user' | 'idle'): AppState {
    if (this.profile && !this.locked) {
      this.locked = true;
      this.emit('app:locked', { reason });
    }
    return this.state();
  }

  private opened(profile: Profile): void {
    this.profile = profile;
    this.locked = false;
    this.watch.clear();
    this.startSync();
  }

  /** The unlocked profile; APP_LOCKED or NO_PROFILE otherwise. */
  private open(): Profile {
    if (this.profile && !this.locked) return this.profile;
    if (this.profile || existsSync(profilePaths(this.options.profileDir).keyFile))
      throw new SottoError('APP_LOCKED');
    throw new SottoError('NO_PROFILE');
  }

  private async setSettings(input: Partial<Settings>): Promise<Settings> {
    const profile = this.open();
    const { relay, allowInsecureRelay, ...rest } = input;
    const relayChanged = this.setRelay(profile, relay, allowInsecureRelay);
    writeSettings(profile, rest);
    if (relayChanged) {
      await this.stopSync();
      this.startSync();
    }
    return readSettings(profile.db);
  }

  /** The invite: it names the relay's id, so the home relay must have been reached once (RELAY_UNAVAILABLE otherwise). */
  private async invite(): Promise<{ link: string }> {
    const profile = this.open();
    const engine = this.engine ?? new SyncEngine(profile);
    try {
      await engine.connectHome();
    } finally {
      if (engine !== this.engine) await engine.close();
    }
    return { link: profileInvite(profile) };
  }

  /**
   * Applies a relay change (checked first: INSECURE_RELAY, RELAY_ADDRESS_REFUSED).
   * Consent to an insecure relay belongs to one address: a new address needs it again.
   * Returns true if the sync loop must restart.
   */
  private setRelay(
    profile: Profile,
    relay: string | null | undefined,
    allowInsecure: boolean | undefined,
  ): boolean {
    const current = getSetting(profile.db, 'relay');
    const consented = getSetting(profile.db, 'relay.allowInsecure') === 'true';
    const address = relay ?? current;
    if (address === undefined || (relay === undefined && allowInsecure === undefined)) return false;
    const sameAddress = current !== undefined && checkOwnRelayAddress(address, true) === current;
    const allow = allowInsecure ?? (sameAddress ? consented : false);
    const normalized = setHomeRelay(profile, address, { allowInsecure: allow });
    return normalized !== current || allow !== consented;
  }

  // --- contacts and conversations ---------------------------------------------

  private addContact(text: string): Contact {
    const added = addContactFromInvite(this.open(), text);
    this.emit('conversations:changed', {});
    return toContact(added);
  }

  /** Block: the token rotation and the re-shared token go out with the next sync pass (register first, then send). */
  private block(conversationId: number, blocked: boolean): Contact {
    const profile = this.open();
    const { accountId } = this.contactOf(conversationId);
    const contact = blocked ? blockContact(profile, accountId) : unblockContact(profile, accountId);
    this.emit('conversations:changed', {});
    this.sendNow();
    return toContact(contact);
  }

  private contacts(): Contact[] {
    const db = this.open().db;
    return db
      .prepare(
        'SELECT account_id FROM contacts ORDER BY coalesce(display_name, account_id) COLLATE NOCASE',
        { pluck: true },
      )
      .all<string>()
      .map((accountId) => toContact(getContact(db, accountId)));
  }

  private contactOf(conversationId: number): CoreContact {
    const db = this.open().db;
    const accountId = db
      .prepare(
        'SELECT k.account_id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = ?',
        { pluck: true },
      )
      .get([conversationId]);
    if (typeof accountId !== 'string') throw new SottoError('UNKNOWN_CONTACT');
    return getContact(db, accountId);
  }

  /** Verify or accept: after a contact's move the conversation belongs to its new account id, so it is re-read by conversation. */
  private trust(
    conversationId: number,
    decide: (profile: Profile, accountId: string) => string,
  ): Contact {
    const profile = this.open();
    decide(profile, this.contactOf(conversationId).accountId);
    this.emit('conversations:changed', {});
    this.sendNow(); // messages held back by the move may go now
    return toContact(this.contactOf(conversationId));
  }

  /**
   * Identity reset (docs/message-format.md#identity-reset). Destructive, so the
   * user proves ownership as at unlock (the passphrase, unless the profile
   * opens by keychain only). The sync loop is restarted: it logged in as the old account.
   */
  private async resetIdentity(passphrase: string | undefined): Promise<AppState> {
    const profile = this.open();
    if (passphrase !== undefined || this.unlockMethod() === 'passphrase')
      await profile.verifyUnlock({ passphrase: passphrase ?? '' });
    const destination = ownDestination(profile);
    await this.stopSync();
    try {
      await resetIdentity(profile, destination);
    } finally {
      this.startSync();
    }
    this.emit('conversations:changed', {});
    return this.state();
  }

  private conversation(conversationId: number): ConversationDetail {
    const db = this.open().db;
    const summary = listConversations(db).find((c) => c.id === conversationId);
    if (!summary) throw new SottoError('UNKNOWN_CONTACT');
    const row = db
      .prepare(
        'SELECT draft, (SELECT count(*) FROM messages WHERE conversation_id = ?) AS messageCount FROM conversations WHERE id = ?',
      )
      .get<{ draft: string | null; messageCount: number }>([conversationId, conversationId]);
    return {
      ...summary,
      draft: row?.draft ?? null,
      messageCount: row?.messageCount ?? 0,
      verified: this.contactOf(conversationId).verified,
    };
  }

  // --- messages ----------------------------------------------------------------

  private send(conversationId: number, body: string) {
    const profile = this.open();
    const queued = queueText(profile, this.contactOf(conversationId).accountId, body);
    const message = this.message(queued.id);
    this.watch.track([message]);
    this.emit('conversations:changed', {});
    this.sendNow();
    return message;
  }

  private message(messageId: number) {
    const message = getMessage(this.open().db, messageId);
    if (!message) throw new SottoError('INVALID_INPUT', 'no such message');
    return message;
  }

  // --- backups -------------------------------------------------------------------

  private exportBackup(input: ParsedInput<'backup:export'>, file: string) {
    const profile = this.open();
    const recoveryKey = input.recoveryKey ? generateRecoveryKey() : null;
    const passphrase = recoveryKey ?? input.passphrase ?? '';
    return this.backups.run('export', async (run) => {
      const report = await exportBackup(profile, file, {
        ...run,
        passphrase,
        ...(this.options.appVersion ? { appVersion: this.options.appVersion } : {}),
      });
      return { recoveryKey, messages: report.manifest.counts.message, bytes: report.bytes };
    });
  }

  /**
   * Restores into a new profile (first run) or merges into this one. The
   * import needs the profile closed (it swaps the database file), so a merge
   * stops sync, closes, imports, and reopens with the same credentials — also
   * when the import is refused, which changes nothing (R6).
   */
  private restore(input: ParsedInput<'backup:restore'>, file: string) {
    const keychain = this.options.keychain;
    return this.backups.run('restore', async (run) => {
      if (!this.profile) {
        if (existsSync(profilePaths(this.options.profileDir).keyFile))
          throw new SottoError('APP_LOCKED');
        const protect = input.protect ?? { useKeychain: false };
        const useKeychain = protect.useKeychain && keychain?.isSecure === true;
        if (protect.passphrase === undefined && !useKeychain)
          throw new SottoError('PASSPHRASE_REQUIRED');
        // Before the import's long first pass, not after it: the same rule as profile:create.
        if (protect.passphrase !== undefined) assertStrongPassphrase(protect.passphrase);
        const create = {
          ...(protect.passphrase !== undefined ? { passphrase: protect.passphrase } : {}),
          ...(useKeychain ? { keychain } : {}),
          ...(this.options.kdfCost ? { kdfCost: this.options.kdfCost } : {}),
        };
        const report = await importBackup(this.options.profileDir, file, {
          ...run,
          passphrase: input.passphrase,
          create,
        });
        this.opened(await Profile.open(this.options.profileDir, create));
        return {
          state: this.state(),
          added: report.messagesInserted,
          summary: summaryOf(report.manifest),
        };
      }
      const profile = this.open();
      const unlock = {
        ...(input.profilePassphrase !== undefined ? { passphrase: input.profilePassphrase } : {}),
        ...(keychain ? { keychain } : {}),
      };
      await profile.verifyUnlock(unlock);
      await this.stopSync();
      await profile.close();
      this.profile = undefined;
      let report;
      try {
        report = await importBackup(this.options.profileDir, file, {
          ...run,
          passphrase: input.passphrase,
          unlock,
        });
      } finally {
        this.opened(await Profile.open(this.options.profileDir, unlock));
        this.emit('conversations:changed', {});
      }
      return {
        state: this.state(),
        added: report.messagesInserted,
        summary: summaryOf(report.manifest),
      };
    });
  }

  private exportConversation(input: ParsedInput<'export:conversation'>, file: string) {
    const profile = this.open();
    const conversation =
      input.conversationId === null ? 'all' : this.contactOf(input.conversationId).accountId;
    return this.backups.run('export-conversation', async (run) => {
      const report = await exportConversation(profile, file, {
        ...run,
        conversation,
        format: input.format,
        ...(input.from !== undefined ? { from: input.from } : {}),
        ...(input.to !== undefined ? { to: input.to } : {}),
        ...(input.passphrase !== undefined ? { encryptWith: input.passphrase } : {}),
      });
      return { messages: report.messages };
    });
  }

  // --- sync ----------------------------------------------------------------------

  private syncStatus(): SyncStatus {
    const profile = this.profile;
    const configured = profile !== undefined && getSetting(profile.db, 'relay') !== undefined;
    return {
      connection: configured ? this.connection : 'not-configured',
      outbox: profile ? outboxSize(profile) : 0,
      backlog: this.backlog,
      unread: profile
        ? Number(
            profile.db
              .prepare('SELECT coalesce(sum(unread_count), 0) FROM conversations', { pluck: true })
              .get(),
          )
        : 0,
    };
  }

  private startSync(): void {
    const profile = this.profile;
    if (!profile || this.options.sync === false || getSetting(profile.db, 'relay') === undefined) {
      this.publishStatus();
      return;
    }
    const engine = new SyncEngine(profile);
    const abort = new AbortController();
    this.engine = engine;
    this.connection = 'connecting';
    this.publishStatus();
    const done = (async () => {
      while (!abort.signal.aborted) {
        try {
          await engine.listen(abort.signal, (event) => this.onSync(event));
        } catch (error) {
          // Anything but an unreachable relay: log the code, stay up, try again shortly.
          log.error('service.sync', error);
          this.connection = 'offline';
          this.publishStatus();
          await sleep(5_000, abort.signal);
        }
      }
    })();
    this.syncLoop = { abort, done };
  }

  private async stopSync(): Promise<void> {
    const loop = this.syncLoop;
    this.syncLoop = undefined;
    if (loop) {
      loop.abort.abort();
      await loop.done;
    }
    await this.engine?.close(); // waits for a running outbox pass
    this.engine = undefined;
  }

  private onSync(event: SyncEvent): void {
    switch (event.type) {
      case 'connection':
        this.connection = event.state;
        break;
      case 'received':
        this.received(event.outcomes);
        break;
      case 'drained':
        this.backlog = null;
        break;
      case 'sent':
      case 'keys':
        break;
    }
    this.refreshStatuses();
    this.publishStatus();
  }

  private received(outcomes: readonly EnvelopeOutcome[]): void {
    const db = this.profile?.db;
    if (!db) return;
    let stored = 0;
    // A control content (a contact's move notice, a new token) changes the list's flags without a message.
    let changed = false;
    for (const outcome of outcomes) {
      // A group update or message (no group events yet: the UI re-reads its groups).
      if (outcome.outcome === 'control' || outcome.outcome === 'group') changed = true;
      if (outcome.outcome !== 'stored') continue;
      stored++;
      // Read back through the core: the UI shows exactly what was committed.
      const message = getMessage(db, outcome.messageId);
      if (message) this.emit('message:new', message);
    }
    if (stored > 0 || changed) this.emit('conversations:changed', {});
    if (this.backlog || stored >= BACKLOG_THRESHOLD)
      this.backlog = { received: (this.backlog?.received ?? 0) + stored };
  }

  /**
   * Sends the outbox now rather than on the listen loop's next turn. The
   * engine runs one pass at a time: a call during a pass joins it and gets one
   * more pass afterwards. Fire-and-forget: failures are logged by code.
   */
  private sendNow(): void {
    const engine = this.engine;
    if (!engine) {
      this.publishStatus();
      return;
    }
    void engine
      .sendOutbox()
      .catch((error: unknown) => {
        if (!isRelayProblem(error)) log.error('service.send', error);
      })
      .finally(() => {
        if (this.engine !== engine) return;
        this.refreshStatuses();
        this.publishStatus();
      })
      .catch((error: unknown) => log.error('service.send_status', error));
  }

  /** Emits message:status for tracked messages whose status changed. */
  private refreshStatuses(): void {
    const db = this.profile?.db;
    if (!db) return;
    for (const change of this.watch.changes(db)) this.emit('message:status', change);
  }

  /** Emits sync:status when connection, outbox or backlog changed. */
  private publishStatus(): void {
    const status = this.syncStatus();
    const key = JSON.stringify(status);
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.emit('sync:status', status);
  }

  private emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    // While locked, only the lock itself and content-free status reach the UI
    // (main uses sync:status's unread count for the badge and a text-free notification).
    if (this.locked && event !== 'app:locked' && event !== 'sync:status') return;
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch (error) {
        log.error('service.listener', error);
      }
    }
  }
}

function isRelayProblem(error: unknown): boolean {
  return (
    hasCode(error, 'RELAY_UNAVAILABLE') ||
    hasCode(error, 'RELAY_REFUSED') ||
    hasCode(error, 'NOT_CONFIGURED') ||
    hasCode(error, 'INSECURE_RELAY') ||
    hasCode(error, 'RELAY_ADDRESS_REFUSED')
  );
}

function toContact(contact: CoreContact): Contact {
  return {
    accountId: contact.accountId,
    displayName: contact.displayName,
    conversationId: contact.conversationId,
    trust: contact.trust,
    verified: contact.verified,
    blocked: contact.blocked,
  };
}
