import { contactCount } from '../../core/contacts/contacts.ts';
import { ownDestination, resetIdentity } from '../../core/crypto/identity-reset.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';

// What `identity reset --yes` does (the definition and its confirmation are commands/identity.ts).

/** A new identity key and account id; contacts get a move notice signed with the old key on the next sync. */
export function identityReset(g: GlobalOptions): Promise<void> {
  return withProfile(g, async (profile) => {
    const before = profile.account.accountId;
    const account = await resetIdentity(profile, ownDestination(profile));
    const contacts = contactCount(profile.db);
    print(g, { previousAccountId: before, accountId: account.accountId, notified: contacts }, () =>
      [
        `New account id: ${account.accountId}`,
        `${contacts} contact(s) will get the signed move notice on the next sync; share your new invite with anyone else.`,
      ].join('\n'),
    );
  });
}
