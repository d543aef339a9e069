// The Argon2id cost bounds on their own, with no imports: the CLI's help text
// names the floor, and `sotto --help` must not load zxcvbn's dictionaries
// (passphrase-policy.ts) to print it.

/**
 * The weakest Argon2id cost a product path accepts (CLI flags; the app always
 * uses DEFAULT_KDF_COST): 64 MiB × 3 passes, OWASP's lower Argon2id setting.
 * Tests reach weaker costs only by passing `kdfCost` to the core directly.
 */
export const KDF_FLOOR = { memoryKiB: 64 * 1024, iterations: 3 } as const;

/**
 * The dearest cost a product path accepts: what key-file readers accept
 * (docs/key-file.md), so a profile can never be created that it cannot open;
 * and a 100 GiB `--kdf-memory` must not even be tried.
 */
export const KDF_CEILING = { memoryKiB: 4 * 1024 * 1024, iterations: 64 } as const;
