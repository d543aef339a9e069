import { MUTE_FOREVER, type MuteDuration } from '../../../shared/mute.ts';
import { findContact, hasCode, type Profile, SottoError } from '../../core/index.ts';
import { findGroup } from '../../core/groups/index.ts';
import { clearMute, type MuteTarget, setMute } from '../../core/history/mute.ts';
import { type GlobalOptions, print, withProfile } from '../context.ts';

// What `mute` and `unmute` do (the definitions are commands/mute.ts). A name
// is a contact's first, then a group's, as `send` and `history` resolve it.

type Resolved = { readonly kind: 'contact' | 'group'; readonly target: MuteTarget };

function resolve(profile: Profile, name: string): Resolved {
  try {
    const contact = findContact(profile.db, name);
    return { kind: 'contact', target: { kind: 'conversation', id: contact.conversationId } };
  } catch (error) {
    if (!hasCode(error, 'UNKNOWN_CONTACT')) throw error;
  }
  try {
    return { kind: 'group', target: { kind: 'group', ref: findGroup(profile.db, name).ref } };
  } catch (error) {
    // Neither: say so as for a contact (what `send` says for an unknown name).
    if (hasCode(error, 'UNKNOWN_GROUP')) throw new SottoError('UNKNOWN_CONTACT');
    throw error;
  }
}

/** `mute TARGET [--for DURATION]`: until the end of `duration` (null: until unmuted). */
export function mute(g: GlobalOptions, name: string, duration: MuteDuration): Promise<void> {
  return withProfile(g, (profile) => {
    const { kind, target } = resolve(profile, name);
    const until = profile.commit(undefined, (db) => setMute(db, target, duration, Date.now()));
    const always = until === MUTE_FOREVER;
    print(g, { kind, mutedUntil: always ? null : until, always }, () =>
      always ? 'Muted until you unmute.' : `Muted until ${new Date(until).toLocaleString()}.`,
    );
    return Promise.resolve();
  });
}

/** `unmute TARGET`. */
export function unmute(g: GlobalOptions, name: string): Promise<void> {
  return withProfile(g, (profile) => {
    const { kind, target } = resolve(profile, name);
    profile.commit(undefined, (db) => clearMute(db, target));
    print(g, { kind, mutedUntil: null, always: false }, () => 'Unmuted.');
    return Promise.resolve();
  });
}
