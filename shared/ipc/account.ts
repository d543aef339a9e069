import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { none, passphrase } from './fields.ts';

// The IPC methods and events of the app's account and profile (docs/ipc.md),
// spread into the contract's tables: first run, unlock and lock, the invite
// link, the passphrase, an identity reset.

export const appStateSchema = z.object({
  /** no-profile: first run; locked: a profile exists and needs unlocking; unlocked: ready. */
  phase: z.enum(['no-profile', 'locked', 'unlocked']),
  accountId: accountIdSchema.nullable(),
  displayName: z.string().nullable(),
  /** True if the OS keychain gives real protection on this machine. */
  keychainSecure: z.boolean(),
  /** How this profile unlocks (null before a profile exists). */
  unlockWith: z.enum(['passphrase', 'keychain']).nullable(),
});
export type AppState = z.infer<typeof appStateSchema>;

const relayAddress = z.string().trim().min(1).max(1024);

/** The account methods: the app's state, and what creates, unlocks, locks or changes the profile. */
export const accountMethods = {
  'app:state': { input: none, output: appStateSchema },
  'profile:create': {
    input: z
      .object({
        /** Checked by the core (INVALID_NAME: 1 to MAX_NAME_CHARS after trimming); bounded here only against abuse. */
        displayName: z.string().max(4096),
        /** Required unless `useKeychain` and the keychain is secure. */
        passphrase: passphrase.optional(),
        useKeychain: z.boolean(),
        relay: relayAddress,
        /** The user confirmed an unencrypted ws:// relay on another host. */
        allowInsecureRelay: z.boolean().optional(),
      })
      .strict(),
    output: appStateSchema,
  },
  'profile:unlock': {
    input: z.object({ passphrase: passphrase.optional() }).strict(),
    output: appStateSchema,
  },
  /** Locks the UI (the core keeps syncing); `reason` is 'idle' when main's idle timer fired. */
  'profile:lock': {
    input: z.object({ reason: z.enum(['user', 'idle']).optional() }).strict(),
    output: appStateSchema,
  },
  'profile:invite': { input: none, output: z.object({ link: z.string() }) },
  'profile:change-passphrase': {
    input: z.object({ current: passphrase, next: passphrase }).strict(),
    output: none,
  },
  /**
   * Identity reset: a new identity key and so a new account id; the old key
   * signs a move notice sent to every contact (docs/message-format.md#identity-reset).
   */
  'profile:reset-identity': {
    input: z.object({ passphrase: passphrase.optional() }).strict(),
    output: appStateSchema,
  },
} as const;

/** The account event: the app locked. */
export const accountEvents = {
  /**
   * The app locked: by the user, after the idle timeout, or because the core
   * restarted after a crash ('restart': the profile must be unlocked again).
   */
  'app:locked': z.object({ reason: z.enum(['user', 'idle', 'restart']) }),
} as const;
