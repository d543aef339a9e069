import type { KdfCost } from '../../electron/core/keys/passphrase.ts';

/**
 * Deliberately weak Argon2id cost for tests (the product default is ~0.5 s per
 * unlock). Passed explicitly, as the key module requires. Its own module, free
 * of vitest, so the benchmarks that drive the app can use it too.
 */
export const TEST_KDF: KdfCost = { memoryKiB: 1024, iterations: 1, parallelism: 1 };
