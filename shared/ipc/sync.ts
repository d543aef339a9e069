import { z } from 'zod';
import { none } from './fields.ts';

// The sync status over IPC (docs/ipc.md): the relay connection, the outbox,
// a backlog being received, the unread badge. Asked for, and pushed on change.

export const connectionStateSchema = z.enum(['online', 'offline', 'connecting', 'not-configured']);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const syncStatusSchema = z.object({
  connection: connectionStateSchema,
  /** Messages waiting to go out. */
  outbox: z.number().int().nonnegative(),
  /** Set while a backlog is being received. */
  backlog: z.object({ received: z.number().int().nonnegative() }).nullable(),
  /** Unread messages across conversations: the dock/tray badge (content-free, sent while locked too). */
  unread: z.number().int().nonnegative(),
});
export type SyncStatus = z.infer<typeof syncStatusSchema>;

/** The sync method: the status now. */
export const syncMethods = {
  'sync:status': { input: none, output: syncStatusSchema },
} as const;

/** The sync event: the status changed. */
export const syncEvents = {
  'sync:status': syncStatusSchema,
} as const;
