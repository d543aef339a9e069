import { type Settings, settingsSchema } from '../../../shared/ipc/contract.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting, type SettingKey, setSetting } from '../profile/settings.ts';
import { setHomeRelay } from '../sync/home-relay-setting.ts';
import { checkOwnRelayAddress } from '../sync/relay-address.ts';
import type { ServiceParts } from './types.ts';

/**
 * What a setting is until the user changes it. Notifications show the sender's
 * name only: an OS notification centre keeps what it showed outside the
 * encrypted database (docs/threat-model.md#notifications).
 */
export const SETTING_DEFAULTS: Omit<Settings, 'relay' | 'allowInsecureRelay'> = {
  autoLockMinutes: 15,
  theme: 'system',
  language: 'en',
  notifications: true,
  notificationContent: 'name',
};

// Values are stored as JSON text.
const KEYS = {
  autoLockMinutes: 'ui.autoLockMinutes',
  theme: 'ui.theme',
  language: 'ui.language',
  notifications: 'ui.notifications',
  notificationContent: 'ui.notificationContent',
} as const satisfies Record<keyof typeof SETTING_DEFAULTS, SettingKey>;

/** The app's settings, with defaults for what was never set (a stored value that no longer parses falls back too). */
export function readSettings(db: Sql): Settings {
  const stored = (key: SettingKey): unknown => {
    const value = getSetting(db, key);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  };
  const settings: Record<string, unknown> = {
    relay: getSetting(db, 'relay') ?? null,
    // Written with the relay (sync/home-relay-setting.ts): consent belongs to one address.
    allowInsecureRelay: getSetting(db, 'relay.allowInsecure') === 'true',
  };
  for (const [name, key] of Object.entries(KEYS) as [keyof typeof KEYS, SettingKey][]) {
    const parsed = settingsSchema.shape[name].safeParse(stored(key));
    settings[name] = parsed.success ? parsed.data : SETTING_DEFAULTS[name];
  }
  return settingsSchema.parse(settings);
}

/**
 * Writes the given settings in one transaction (values already validated by
 * the contract). The relay and its insecure-relay consent are not written
 * here: they go through setHomeRelay, which checks the address.
 */
export function writeSettings(
  profile: Profile,
  changes: Omit<Partial<Settings>, 'relay' | 'allowInsecureRelay'>,
): void {
  profile.commit(undefined, (db) => {
    for (const [name, key] of Object.entries(KEYS) as [keyof typeof KEYS, SettingKey][]) {
      if (changes[name] !== undefined) setSetting(db, key, JSON.stringify(changes[name]));
    }
  });
}

/** `settings:set`: writes the changes; a relay change restarts the sync loop. */
export async function applySettings(
  parts: ServiceParts,
  input: Partial<Settings>,
): Promise<Settings> {
  const profile = parts.open();
  const { relay, allowInsecureRelay, ...rest } = input;
  const relayChanged = setRelay(profile, relay, allowInsecureRelay);
  writeSettings(profile, rest);
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
