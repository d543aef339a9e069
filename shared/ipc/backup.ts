import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { appStateSchema } from './account.ts';
import { id, none, passphrase } from './fields.ts';

// The IPC methods and events of backups and readable exports
// (docs/backup-format.md), spread into the contract's tables. Each method
// works on a file the user picks in a native dialog that main shows (the
// contract's FILE_METHODS): the renderer never names a path. A closed dialog
// is CANCELLED, as is `backup:cancel`.

/** What a verified backup holds (from its manifest). */
export const backupSummarySchema = z.object({
  accountId: accountIdSchema,
  createdAt: z.number(),
  appVersion: z.string(),
  messages: z.number().int().nonnegative(),
  contacts: z.number().int().nonnegative(),
  conversations: z.number().int().nonnegative(),
});
export type BackupSummary = z.infer<typeof backupSummarySchema>;

/** The backup methods: export, verify, restore, cancel, and a readable export of conversations. */
export const backupMethods = {
  /** Exactly one of `passphrase` (checked for strength) and `recoveryKey` (generated, returned once). */
  'backup:export': {
    input: z
      .object({ passphrase: passphrase.optional(), recoveryKey: z.literal(true).optional() })
      .strict()
      .refine(
        (i) => (i.passphrase === undefined) !== (i.recoveryKey === undefined),
        'passphrase or recoveryKey',
      ),
    output: z.object({
      recoveryKey: z.string().nullable(),
      messages: z.number().int().nonnegative(),
      bytes: z.number(),
    }),
  },
  'backup:verify': { input: z.object({ passphrase }).strict(), output: backupSummarySchema },
  /**
   * Restores a backup. With no profile (first run): a new profile protected by
   * `protect`. With an unlocked profile: merged into it (same account only),
   * after `profilePassphrase` confirms it is the user.
   */
  'backup:restore': {
    input: z
      .object({
        passphrase,
        profilePassphrase: passphrase.optional(),
        protect: z
          .object({ passphrase: passphrase.optional(), useKeychain: z.boolean() })
          .strict()
          .optional(),
      })
      .strict(),
    output: z.object({
      state: appStateSchema,
      added: z.number().int().nonnegative(),
      summary: backupSummarySchema,
    }),
  },
  'backup:cancel': { input: none, output: none },
  /** A readable export of one conversation (or all, with `conversationId` null), optionally age-encrypted. */
  'export:conversation': {
    input: z
      .object({
        conversationId: id.nullable(),
        format: z.enum(['html', 'json', 'md']),
        from: z.number().int().nonnegative().optional(),
        to: z.number().int().nonnegative().optional(),
        passphrase: passphrase.optional(),
      })
      .strict(),
    output: z.object({ messages: z.number().int().nonnegative() }),
  },
} as const;

/** The backup event: progress of the running backup, restore or export. */
export const backupEvents = {
  /** Progress of the running backup, restore or export. */
  'backup:progress': z.object({
    operation: z.enum(['export', 'verify', 'restore', 'export-conversation']),
    phase: z.enum(['export', 'verify', 'import', 'swap']),
    done: z.number().nonnegative(),
    total: z.number().nonnegative(),
  }),
} as const;
