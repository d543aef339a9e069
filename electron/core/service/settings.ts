import type { Settings } from '../../../shared/ipc/contract.ts';
import { readSettings, writeSettings } from '../profile/app-settings.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting } from '../profile/settings.ts';
import { setHomeRelay } from '../sync/home-relay-setting.ts';
import { checkOwnRelayAddress } from '../sync/relay-address.ts';
import type { ServiceParts } from './types.ts';

/** `settings:set`: writes the changes; a relay change restarts the sync loop. */
export async function applySettings(
  parts: ServiceParts,
  input: Partial<Settings>,
): Promise<Settings> {
  const profile = parts.open();
  const { relay, allowInsecureRelay, ...rest } = input;
  const relayChanged = setRelay(profile, relay, allowInsecureRelay);
  writeSettings(profile, rest);
  // A wider policy may let held-back images download now.
  if (rest.autoDownloadImagesMb !== undefined || rest.autoDownloadOnMetered !== undefined)
    parts.downloads.downloadNow(profile);
  if (relayChanged) {
    await parts.sync.stop();
    parts.sync.start(profile);
  }
  return readSettings(profile.db);
}

/**
 * Applies a relay change (checked first: INSECURE_RELAY, RELAY_ADDRESS_REFUSED).
 * Consent to an insecure relay belongs to one address: a new address needs it again.
 * Returns true if the sync loop must restart.
 */
function setRelay(
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
