import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Outcome of the background integrity check (invariant R7). */
export type IntegrityReport =
  | { readonly ok: true; readonly millis: number }
  /** Stopped between tables because the profile was closing: nothing found so far, nothing proven. */
  | { readonly ok: true; readonly millis: number; readonly cancelled: true }
  | { readonly ok: false; readonly millis: number; readonly problems: number };

/** A running integrity check: its report, and a way to stop it at the next table. */
export interface IntegrityCheck {
  readonly report: Promise<IntegrityReport>;
  /** Asks the check to stop before its next table (it cannot be interrupted inside one). */
  readonly cancel: () => void;
}

// The worker is plain CommonJS so it runs the same under vitest, tsx and the
// bundled app; it gets the binding's resolved path rather than resolving it itself.
// It checks one table (with its indexes) at a time and looks at a shared flag in
// between: terminating the thread inside a SQLCipher statement aborts the whole
// process, so stopping between statements is the only safe way to stop early.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const binding = require(workerData.binding);
const Database = binding.default;
// Damage is reported as a count; SQLCipher's own messages stay out of stderr.
binding.setLogger(() => {});
const cancel = new Int32Array(workerData.cancel);
const started = Date.now();
let problems = 0;
let cancelled = false;
let db;
try {
  db = new Database(workerData.path);
  db.exec('PRAGMA key = "x\\'' + workerData.keyHex + '\\'"');
  db.exec('PRAGMA query_only = ON');
  db.exec("PRAGMA cipher_log_level = NONE");
  // Ordinary tables only (a virtual table's storage is its shadow tables, which are listed themselves).
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")
    .all()
    .map((row) => row.name);
  for (const table of ['sqlite_schema', ...tables]) {
    if (Atomics.load(cancel, 0) !== 0) {
      cancelled = true;
      break;
    }
    const rows = db.prepare('PRAGMA quick_check(' + JSON.stringify(table) + ')').all();
    problems += rows.filter((row) => Object.values(row)[0] !== 'ok').length;
  }
  if (!cancelled && Atomics.load(cancel, 0) === 0) {
    problems += db.prepare('PRAGMA cipher_integrity_check').all().length;
  }
} catch (error) {
  problems += 1;
} finally {
  if (db) db.close();
}
parentPort.postMessage({ problems, cancelled, millis: Date.now() - started });
`;

const binding = createRequire(import.meta.url).resolve('@signalapp/sqlcipher');

/**
 * Runs `quick_check` (table by table) and `cipher_integrity_check` on a
 * separate connection in a worker thread, so a large profile opens without
 * waiting for them (they take seconds on a 1M-message profile). `cancel()`
 * stops it after the table being checked, so closing a profile never waits
 * for the whole check.
 */
export function checkIntegrity(path: string, key: Uint8Array): IntegrityCheck {
  const flag = new SharedArrayBuffer(4);
  const report = new Promise<IntegrityReport>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { binding, path, keyHex: Buffer.from(key).toString('hex'), cancel: flag },
    });
    worker.once('message', (result: { problems: number; millis: number; cancelled: boolean }) => {
      if (result.problems > 0)
        resolve({ ok: false, millis: result.millis, problems: result.problems });
      else if (result.cancelled) resolve({ ok: true, millis: result.millis, cancelled: true });
      else resolve({ ok: true, millis: result.millis });
    });
    worker.once('error', reject);
    // A worker that dies without reporting must not leave callers waiting forever.
    worker.once('exit', () => reject(new Error('integrity worker exited without a report')));
  });
  return { report, cancel: () => Atomics.store(new Int32Array(flag), 0, 1) };
}
