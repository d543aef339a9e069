import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Outcome of the background integrity check (invariant R7). */
export type IntegrityReport =
  | { readonly ok: true; readonly millis: number }
  | { readonly ok: false; readonly millis: number; readonly problems: number };

// The worker is plain CommonJS so it runs the same under vitest, tsx and the
// bundled app; it gets the binding's resolved path rather than resolving it itself.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const binding = require(workerData.binding);
const Database = binding.default;
// Damage is reported as a count; SQLCipher's own messages stay out of stderr.
binding.setLogger(() => {});
const started = Date.now();
let problems = 0;
let db;
try {
  db = new Database(workerData.path);
  db.exec('PRAGMA key = "x\\'' + workerData.keyHex + '\\'"');
  db.exec('PRAGMA query_only = ON');
  db.exec("PRAGMA cipher_log_level = NONE");
  const quick = db.prepare('PRAGMA quick_check').all();
  problems += quick.filter((row) => Object.values(row)[0] !== 'ok').length;
  problems += db.prepare('PRAGMA cipher_integrity_check').all().length;
} catch (error) {
  problems += 1;
} finally {
  if (db) db.close();
}
parentPort.postMessage({ problems, millis: Date.now() - started });
`;

const binding = createRequire(import.meta.url).resolve('@signalapp/sqlcipher');

/**
 * Runs `quick_check` and `cipher_integrity_check` on a separate connection in a
 * worker thread, so a large profile opens without waiting for them (they take
 * over a second on a 1M-message profile). Resolves with what they found.
 */
export function checkIntegrity(path: string, key: Uint8Array): Promise<IntegrityReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { binding, path, keyHex: Buffer.from(key).toString('hex') },
    });
    worker.once('message', (result: { problems: number; millis: number }) => {
      resolve(
        result.problems === 0
          ? { ok: true, millis: result.millis }
          : { ok: false, millis: result.millis, problems: result.problems },
      );
    });
    worker.once('error', reject);
    // A worker that dies without reporting must not leave callers waiting forever.
    worker.once('exit', () => reject(new Error('integrity worker exited without a report')));
  });
}
