import { z } from 'zod';
import { autoDownloadMbSchema } from './attachments.ts';
import { none } from './fields.ts';

// The app's settings over IPC (docs/ipc.md), spread into the contract's
// method table: one object read whole and written in part.

export const themeSchema = z.enum(['system', 'light', 'dark']);
export const settingsSchema = z.object({
  relay: z.string().nullable(),
  /** Minutes of inactivity before the app locks; 0 = never. */
  autoLockMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60),
  theme: themeSchema,
  language: z.string().min(2).max(16),
  notifications: z.boolean(),
  /** What an OS notification shows (docs/threat-model.md#notifications); default 'name'. */
  notificationContent: z.enum(['name-and-text', 'name', 'nothing']),
  /** The user confirmed an unencrypted ws:// relay on another host (docs/relay-protocol.md#relay-addresses). */
  allowInsecureRelay: z.boolean(),
  /** Received images up to this many MB download by themselves (0 = never; other files always wait for a click). */
  autoDownloadImagesMb: autoDownloadMbSchema,
  /** Auto-download on a metered connection too (default off). */
  autoDownloadOnMetered: z.boolean(),
});
export type Settings = z.infer<typeof settingsSchema>;

/** The settings methods: read all, write some (the answer is all of them). */
export const settingsMethods = {
  'settings:get': { input: none, output: settingsSchema },
  'settings:set': { input: settingsSchema.partial().strict(), output: settingsSchema },
} as const;
