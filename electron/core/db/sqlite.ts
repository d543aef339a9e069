import Database, { setLogger } from '@signalapp/sqlcipher';
import { SottoError } from '../errors.ts';
import { log } from '../log.ts';

// SQLCipher's own diagnostics go through the redacting logger (their text is
// dropped; the event name keeps the subsystem), never straight to stderr.
setLogger((code) => log.warn(`sqlcipher.${code.replace(/[^A-Za-z0-9_]/g, '')}`));

/** A SQLCipher connection (the `@signalapp/sqlcipher` binding). */
export type Sql = Database;

/** SQLite result codes that mean the file itself is damaged or not ours. */
const DAMAGE = /SQLITE_(CORRUPT|NOTADB)|file is not a database|malformed/i;

/** True if a SQLite error says the database file is damaged. */
export function isDamageError(error: unknown): boolean {
  return (
    error instanceof Error &&
    DAMAGE.test(`${(error as { code?: string }).code ?? ''} ${error.message}`)
  );
}

/**
 * Opens a SQLCipher database with a raw 32-byte key and applies the connection
 * settings every Sotto connection uses. SQLCipher accepts any key at `PRAGMA key`
 * and fails on the first read, so a read verifies the key before anything else.
 */
export function openKeyed(path: string, key: Uint8Array): Sql {
  if (key.length !== 32) throw new Error('database key must be 32 bytes');
  const db = new Database(path, { cacheStatements: true });
  try {
    // SQLCipher's own log writes straight to stderr; damage surfaces as errors instead.
    db.exec('PRAGMA cipher_log_level = NONE');
    db.exec(`PRAGMA key = "x'${Buffer.from(key).toString('hex')}'"`);
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    // 64 MiB page cache (the default 2 MiB thrashes on the uuid and FTS indexes of a large history).
    db.exec('PRAGMA cache_size = -65536');
    db.exec('PRAGMA temp_store = MEMORY');
    db.initTokenizer();
    return db;
  } catch (error) {
    db.close();
    if (isDamageError(error)) throw new SottoError('DB_CORRUPT', 'open', { cause: error });
    throw error;
  }
}
