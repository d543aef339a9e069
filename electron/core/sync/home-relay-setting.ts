import { type RelayId, relayIdSchema } from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting, setSetting } from '../profile/settings.ts';
import { checkOwnRelayAddress, sameAddress } from './relay-address.ts';

// The profile's own relay: its address, the consent for an insecure one, and
// the relay id pinned at the first successful connection. The pin is what
// makes the login safe to send: a relay answering with another id is another
// relay (or an impostor at the same address) and gets no signature.

/** The home relay as the settings hold it. */
export interface HomeRelaySetting {
  readonly address: string;
  /** The relay id pinned for this address, once a connection has shown it. */
  readonly relayId: RelayId | undefined;
  readonly allowInsecure: boolean;
}

/** The profile's home relay; NOT_CONFIGURED without one. The address is re-checked (a stored insecure address without consent is refused). */
export function homeRelaySetting(profile: Profile): HomeRelaySetting {
  const stored = getSetting(profile.db, 'relay');
  if (!stored) throw new SottoError('NOT_CONFIGURED');
  const allowInsecure = getSetting(profile.db, 'relay.allowInsecure') === 'true';
  return {
    address: checkOwnRelayAddress(stored, allowInsecure),
    relayId: homeRelayId(profile),
    allowInsecure,
  };
}

/** The relay id pinned for the home relay (what an invite carries), if a connection has shown it yet. */
export function homeRelayId(profile: Profile): RelayId | undefined {
  const parsed = relayIdSchema.safeParse(getSetting(profile.db, 'relay.id'));
  return parsed.success ? parsed.data : undefined;
}

/**
 * Sets the home relay after checking the address (INSECURE_RELAY,
 * RELAY_ADDRESS_REFUSED). A different relay drops the pinned relay id (the
 * next connection pins the new one) and the key publication mark; the consent
 * is stored with it. Returns the canonical address.
 */
export function setHomeRelay(
  profile: Profile,
  address: string,
  options: { allowInsecure?: boolean } = {},
): string {
  const allowInsecure = options.allowInsecure ?? false;
  const normalized = checkOwnRelayAddress(address, allowInsecure);
  const previous = getSetting(profile.db, 'relay');
  const changed = previous === undefined || !sameAddressSafe(previous, normalized);
  profile.commit(undefined, (db) => {
    setSetting(db, 'relay', normalized);
    setSetting(db, 'relay.allowInsecure', allowInsecure ? 'true' : 'false');
    if (changed) {
      db.prepare("DELETE FROM settings WHERE key IN ('relay.id', 'keys.publishedTo')").run();
    }
  });
  return normalized;
}

/** Pins the home relay's id (first successful connection after init or a relay change). */
export function pinHomeRelayId(profile: Profile, relayId: RelayId): void {
  profile.commit(undefined, (db) => setSetting(db, 'relay.id', relayIdSchema.parse(relayId)));
}

function sameAddressSafe(a: string, b: string): boolean {
  try {
    return sameAddress(a, b);
  } catch {
    return false;
  }
}
