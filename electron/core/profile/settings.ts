import type { Sql } from '../db/sqlite.ts';

/** Known settings keys (values are strings in the `settings` table). */
export type SettingKey =
  | 'relay'
  // The relay id pinned for `relay` at its first successful connection (cleared when `relay` changes).
  | 'relay.id'
  // 'true' when the user consented to an unencrypted ws:// relay on another host (`--insecure`, Settings).
  | 'relay.allowInsecure'
  | 'keys.publishedTo'
  // This account's delivery token (hex) and the home relay address it is registered with (contacts/tokens.ts).
  | 'delivery.token'
  | 'delivery.tokenRegisteredWith'
  // Desktop app preferences (not secret; kept in the encrypted database like everything else).
  | 'ui.autoLockMinutes'
  | 'ui.theme'
  | 'ui.language'
  | 'ui.notifications'
  | 'ui.notificationContent'
  // The desktop app's auto-download policy (attachments/download-policy.ts; the CLI downloads everything).
  | 'attachments.autoDownloadImagesMb'
  | 'attachments.autoDownloadOnMetered';

/** Reads a setting. */
export function getSetting(db: Sql, key: SettingKey): string | undefined {
  const value = db.prepare('SELECT value FROM settings WHERE key = ?', { pluck: true }).get([key]);
  return typeof value === 'string' ? value : undefined;
}

/** Writes a setting. */
export function setSetting(db: Sql, key: SettingKey, value: string): void {
  db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run([key, value]);
}
