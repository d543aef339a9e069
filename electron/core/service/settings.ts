import { type Settings, settingsSchema } from '../../../shared/ipc/contract.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting, type SettingKey, setSetting } from '../profile/settings.ts';

/**
 * What a setting is until the user changes it. Notifications show the sender's
 * name only: an OS notification centre keeps what it showed outside the
 * encrypted database (docs/threat-model.md#notifications).
 */
export const SETTING_DEFAULTS: Omit<Settings, 'relay'> = {
  autoLockMinutes: 15,
  theme: 'system',
  language: 'en',
  notifications: true,
  notificationContent: 'name',
  allowInsecureRelay: false,
};

// Values are stored as JSON text (`relay.allowInsecure` as 'true'/'false', which is JSON too).
const KEYS = {
  autoLockMinutes: 'ui.autoLockMinutes',
  theme: 'ui.theme',
  language: 'ui.language',
  notifications: 'ui.notifications',
  notificationContent: 'ui.notificationContent',
  allowInsecureRelay: 'relay.allowInsecure',
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
  const settings: Record<string, unknown> = { relay: getSetting(db, 'relay') ?? null };
  for (const [name, key] of Object.entries(KEYS) as [keyof typeof KEYS, SettingKey][]) {
    const parsed = settingsSchema.shape[name].safeParse(stored(key));
    settings[name] = parsed.success ? parsed.data : SETTING_DEFAULTS[name];
  }
  return settingsSchema.parse(settings);
}

/** Writes the given settings in one transaction (values already validated by the contract). */
export function writeSettings(profile: Profile, changes: Partial<Settings>): void {
  profile.commit(undefined, (db) => {
    if (changes.relay) setSetting(db, 'relay', changes.relay);
    for (const [name, key] of Object.entries(KEYS) as [keyof typeof KEYS, SettingKey][]) {
      if (changes[name] !== undefined) setSetting(db, key, JSON.stringify(changes[name]));
    }
  });
}
