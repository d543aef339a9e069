import { type Settings, settingsSchema } from '../../../shared/ipc/contract.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from './profile.ts';
import { getSetting, type SettingKey, setSetting } from './settings.ts';

// The app's settings (auto-lock, theme, notifications, …) as rows of the
// encrypted `settings` table, with defaults; the service's settings methods
// (service/settings.ts) read and write them here.

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
  // Issue 13 §2: images up to 10 MB download by themselves, never on a metered connection.
  autoDownloadImagesMb: 10,
  autoDownloadOnMetered: false,
};

// Values are stored as JSON text.
const KEYS = {
  autoLockMinutes: 'ui.autoLockMinutes',
  theme: 'ui.theme',
  language: 'ui.language',
  notifications: 'ui.notifications',
  notificationContent: 'ui.notificationContent',
  autoDownloadImagesMb: 'attachments.autoDownloadImagesMb',
  autoDownloadOnMetered: 'attachments.autoDownloadOnMetered',
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
