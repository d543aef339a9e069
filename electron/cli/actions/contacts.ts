import {
  addContactFromInvite,
  blockContact,
  findContact,
  listContacts,
  markVerified,
  safetyNumber,
  unblockContact,
} from '../../core/index.ts';
import { mutedUntil } from '../../core/history/mute.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';
import { muteSuffix, muteView } from '../mute-view.ts';

// What the contact commands do (the definitions are commands/contacts.ts).

/** `contact add INVITE`. */
export function contactAdd(
  g: GlobalOptions,
  text: string,
  options: { name?: string },
): Promise<void> {
  return withProfile(g, (profile) => {
    const added = addContactFromInvite(profile, text, options.name);
    print(g, added, () => `Added ${added.displayName ?? added.accountId}.`);
    return Promise.resolve();
  });
}

/** `contact block CONTACT`. */
export function contactBlock(g: GlobalOptions, name: string): Promise<void> {
  return withProfile(g, (profile) => {
    const blocked = blockContact(profile, findContact(profile.db, name).accountId);
    print(
      g,
      blocked,
      () =>
        `Blocked ${blocked.displayName ?? blocked.accountId}. The new token reaches the relay and your other contacts on the next sync.`,
    );
    return Promise.resolve();
  });
}

/** `contact unblock CONTACT`. */
export function contactUnblock(g: GlobalOptions, name: string): Promise<void> {
  return withProfile(g, (profile) => {
    const unblocked = unblockContact(profile, findContact(profile.db, name).accountId);
    print(g, unblocked, () => `Unblocked ${unblocked.displayName ?? unblocked.accountId}.`);
    return Promise.resolve();
  });
}

/** `contacts`. */
export function contactsList(g: GlobalOptions): Promise<void> {
  return withProfile(g, (profile) => {
    const now = Date.now();
    const contacts = listContacts(profile.db).map((c) => ({
      ...c,
      muted: muteView(mutedUntil(profile.db, { kind: 'conversation', id: c.conversationId }, now)),
    }));
    print(g, contacts, () =>
      contacts
        .map(
          (c) =>
            `${(c.displayName ?? '(unknown)').padEnd(24)} ${c.accountId} ${c.trust}${c.verified ? ' verified' : ''}${c.blocked ? ' blocked' : ''}${muteSuffix(c.muted)}`,
        )
        .join('\n'),
    );
    return Promise.resolve();
  });
}

/** `safety-number CONTACT`. */
export function safetyNumberShow(g: GlobalOptions, name: string): Promise<void> {
  return withProfile(g, (profile) => {
    const target = findContact(profile.db, name);
    const number = safetyNumber(profile, target.accountId);
    const groups = number.digits.match(/\d{5}/g) ?? [];
    print(
      g,
      {
        contact: target.accountId,
        digits: number.digits,
        scannable: Buffer.from(number.scannable).toString('base64'),
      },
      () => [groups.slice(0, 6).join(' '), groups.slice(6).join(' ')].join('\n'),
    );
    return Promise.resolve();
  });
}

/** `verify CONTACT`: marks the contact verified (also accepts a changed safety number). */
export function contactVerify(g: GlobalOptions, name: string): Promise<void> {
  return withProfile(g, (profile) => {
    const target = findContact(profile.db, name);
    markVerified(profile, target.accountId);
    print(
      g,
      { contact: target.accountId, verified: true },
      () => `Verified ${target.displayName ?? target.accountId}.`,
    );
    return Promise.resolve();
  });
}
