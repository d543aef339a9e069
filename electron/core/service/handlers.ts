import type { MethodName, MethodOutput } from '../../../shared/ipc/contract.ts';
import { acceptIdentityChange, markVerified, safetyNumber } from '../crypto/trust.ts';
import { SottoError } from '../errors.ts';
import { setDraft } from '../history/conversation-state.ts';
import {
  listConversations,
  markRead,
  messagesAfter,
  messagesAround,
  messagesPage,
  searchMessages,
} from '../history/history.ts';
import { readSettings } from '../profile/app-settings.ts';
import { profileInvite } from '../profile/invite.ts';
import { SyncEngine } from '../sync/engine.ts';
import { chosenFile, runConversationExport, runExport, runVerify } from './backups.ts';
import {
  addContact,
  contactOf,
  contacts,
  conversation,
  decideTrust,
  retry,
  send,
  setBlocked,
  setConversationMute,
} from './conversation-methods.ts';
import { attachmentHandlers } from './attachments.ts';
import { deleteForMe } from './message-delete.ts';
import { groupHandlers } from './groups.ts';
import { applySettings } from './settings.ts';
import type { CallContext, ParsedInput, ServiceParts } from './types.ts';

/** One handler per contract method. */
export type Handlers = {
  [M in MethodName]: (
    input: ParsedInput<M>,
    context: CallContext,
  ) => Promise<MethodOutput<M>> | MethodOutput<M>;
};

/**
 * Methods that work without an unlocked profile (restore: at first run, into
 * a new profile). Every other method is refused with APP_LOCKED or NO_PROFILE
 * before its handler runs (app-service.ts).
 */
export const OPEN_METHODS: ReadonlySet<MethodName> = new Set<MethodName>([
  'app:state',
  'profile:create',
  'profile:unlock',
  'backup:restore',
  'backup:verify',
  'backup:cancel',
]);

/** The contract's handler table over the service's parts. */
export function createHandlers(parts: ServiceParts): Handlers {
  const { session, sync, backups } = parts;
  return {
    ...groupHandlers({
      open: () => parts.open(),
      accountOf: (conversationId) => contactOf(parts, conversationId).accountId,
      sendNow: () => parts.sendNow(),
      unreadChanged: () => sync.publishStatus(parts.open()),
    }),
    ...attachmentHandlers({
      open: () => parts.open(),
      accountOf: (conversationId) => contactOf(parts, conversationId).accountId,
      sendNow: () => parts.sendNow(),
      // The running engine's home relay, so a large file uploads while it is sealed.
      uploads: () => {
        const engine = parts.sync.engine;
        if (!engine) throw new SottoError('NOT_CONFIGURED', 'no engine running');
        return engine.pool.homeBlobs();
      },
      downloads: parts.downloads,
      sends: parts.sends,
    }),
    'app:state': () => session.state(),
    'profile:create': (input) => session.create(input),
    'profile:unlock': (input) => session.unlock(input.passphrase),
    'profile:lock': (input) => session.lock(input.reason ?? 'user'),
    'profile:invite': () => invite(parts),
    'profile:change-passphrase': async (input) => {
      // The core's one passphrase rule decides (WEAK_PASSPHRASE); the UI's meter is only a hint.
      await parts.open().changePassphrase(input.current, input.next, parts.options.kdfCost);
      return {};
    },
    'profile:reset-identity': (input) => session.resetIdentity(input.passphrase),
    'settings:get': () => readSettings(parts.open().db),
    'settings:set': (input) => applySettings(parts, input),
    'contacts:add': (input) => addContact(parts, input.invite),
    'contacts:list': () => contacts(parts),
    'contacts:safety-number': (input) => {
      const number = safetyNumber(parts.open(), contactOf(parts, input.conversationId).accountId);
      return {
        digits: number.digits,
        scannable: Buffer.from(number.scannable).toString('base64'),
      };
    },
    'contacts:verify': (input) => decideTrust(parts, input.conversationId, markVerified),
    'contacts:accept-identity': (input) =>
      decideTrust(parts, input.conversationId, acceptIdentityChange),
    'contacts:block': (input) => setBlocked(parts, input.conversationId, true),
    'contacts:unblock': (input) => setBlocked(parts, input.conversationId, false),
    'conversations:list': () => listConversations(parts.open().db),
    'conversations:get': (input) => conversation(parts, input.conversationId),
    'conversations:mark-read': (input) => {
      const profile = parts.open();
      contactOf(parts, input.conversationId);
      profile.commit(undefined, (db) => markRead(db, input.conversationId));
      parts.emit('conversations:changed', {});
      return {};
    },
    'conversations:mute': (input) =>
      setConversationMute(parts, input.conversationId, input.durationMs),
    'conversations:unmute': (input) => setConversationMute(parts, input.conversationId, undefined),
    'conversations:set-draft': (input) => {
      const profile = parts.open();
      contactOf(parts, input.conversationId);
      const draft = input.draft === null || input.draft.trim() === '' ? null : input.draft;
      profile.commit(undefined, (db) => setDraft(db, input.conversationId, draft));
      return {};
    },
    'messages:page': (input) => {
      const db = parts.open().db;
      if (input.before && input.after) throw new SottoError('INVALID_INPUT', 'before and after');
      return input.after
        ? messagesAfter(db, input.conversationId, input.limit, input.after)
        : messagesPage(db, input.conversationId, input.limit, input.before);
    },
    'messages:around': (input) => {
      const messages = messagesAround(parts.open().db, input.messageId, input.limit);
      if (!messages?.[0]) throw new SottoError('INVALID_INPUT', 'no such message');
      return { conversationId: messages[0].conversationId, messages };
    },
    'messages:send': (input) => send(parts, input.conversationId, input.body),
    'messages:retry': (input) => retry(parts, input.messageId),
    'messages:search': (input) => searchMessages(parts.open().db, input.query, input.limit),
    'messages:delete': (input) => deleteForMe(parts, input),
    'sync:status': () => sync.status(parts.open()),
    'backup:export': (input, context) => runExport(parts, input, chosenFile(context.file)),
    'backup:verify': (input, context) => runVerify(parts, input, chosenFile(context.file)),
    'backup:restore': (input, context) => {
      const file = chosenFile(context.file);
      return backups.run('restore', (run) => session.restore(input, file, run));
    },
    'backup:cancel': () => {
      backups.cancel();
      return {};
    },
    'export:conversation': (input, context) =>
      runConversationExport(parts, input, chosenFile(context.file)),
  };
}

/** The invite: it names the relay's id, so the home relay must have been reached once (RELAY_UNAVAILABLE otherwise). */
async function invite(parts: ServiceParts): Promise<{ link: string }> {
  const profile = parts.open();
  const running = parts.sync.engine;
  const engine = running ?? new SyncEngine(profile);
  try {
    await engine.connectHome();
  } finally {
    if (engine !== running) await engine.close();
  }
  return { link: profileInvite(profile) };
}
