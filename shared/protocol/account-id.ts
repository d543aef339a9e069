import { z } from 'zod';

/**
 * An account id: 32 lowercase base32 characters (20 bytes). Derived from the
 * identity public key when the account is created (docs/architecture.md#account-id).
 */
export const accountIdSchema = z
  .string()
  .regex(/^[a-z2-7]{32}$/, 'an account id is 32 base32 characters')
  .brand<'AccountId'>();

export type AccountId = z.infer<typeof accountIdSchema>;
