import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { SottoError } from '../../errors.ts';

// The textual header of an age v1 file with one scrypt (passphrase) recipient
// (c2sp.org/age). Written by hand on Node's crypto for speed; checked against
// the `age-encryption` library and the `age` CLI in tests/integration/backup.

export const VERSION_LINE = 'age-encryption.org/v1';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
/** age's own default: 2^18 (256 MiB, about a second). Lower only by explicit test/bench option. */
export const DEFAULT_SCRYPT_LOG_N = 18;
/**
 * A file asking for more scrypt work than this is refused while its header is
 * parsed, before any derivation (issue 9: a crafted 2^22 header cost 42 s and
 * 4.3 GB before failing). 2^20 is 1 GiB and a few seconds: 4x what Sotto writes.
 */
export const MAX_SCRYPT_LOG_N = 20;
/** A header longer than this is not one we wrote or could read. */
export const MAX_HEADER_BYTES = 16 * 1024;
const FILE_KEY_BYTES = 16;
const SALT_BYTES = 16;
const ZERO_NONCE = Buffer.alloc(12);

/** The parts of a parsed header that decryption needs. */
export interface ParsedHeader {
  readonly salt: Buffer;
  readonly logN: number;
  readonly wrappedKey: Buffer;
  /** The header bytes the MAC covers: everything up to and including `---`. */
  readonly macInput: Buffer;
  readonly mac: Buffer;
  /** Total header length, final newline included: the payload starts here. */
  readonly length: number;
}

/** Canonical unpadded base64 (RFC 4648 §3.5), as age requires; undefined if not canonical. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return encodeBase64(bytes) === text ? bytes : undefined;
}

/** Unpadded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

function scryptKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  const r = 8;
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(passphrase, 'utf8'),
      Buffer.concat([Buffer.from(SCRYPT_LABEL, 'latin1'), salt]),
      32,
      { N, r, p: 1, maxmem: 128 * r * N + 4 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** HKDF-SHA-256 with a 32-byte output, as age uses it. */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
    .update(macInput)
    .digest();
}

/** A fresh random file key (what the payload key and the header MAC derive from). */
export function newFileKey(): Buffer {
  return randomBytes(FILE_KEY_BYTES);
}

/**
 * The length of the header `sealHeader` writes for work factor `logN`. It
 * depends on nothing else (salt, body and MAC have fixed sizes), which lets a
 * writer seal the payload after a reserved gap while scrypt runs, and write
 * the header into the gap last. RangeError for a work factor Sotto does not write.
 */
export function headerLength(logN: number): number {
  if (!Number.isInteger(logN) || logN < 1 || logN > MAX_SCRYPT_LOG_N)
    throw new RangeError('scrypt work factor out of range');
  const b64 = (bytes: number) => encodeBase64(Buffer.alloc(bytes)).length;
  return (
    `${VERSION_LINE}\n-> scrypt `.length +
    b64(SALT_BYTES) +
    1 +
    String(logN).length +
    1 +
    b64(FILE_KEY_BYTES + 16) +
    '\n--- '.length +
    b64(32) +
    1
  );
}

/** The complete header wrapping `fileKey` under `passphrase` with a fresh salt (runs scrypt, off the calling thread). */
export async function sealHeader(
  passphrase: string,
  fileKey: Uint8Array,
  logN = DEFAULT_SCRYPT_LOG_N,
): Promise<Buffer> {
  const length = headerLength(logN);
  const salt = randomBytes(SALT_BYTES);
  const cipher = createCipheriv(
    'chacha20-poly1305',
    await scryptKey(passphrase, salt, logN),
    ZERO_NONCE,
    { authTagLength: 16 },
  );
  const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
  // A 32-byte body is 43 base64 characters: one final line shorter than 64 columns.
  const macInput = Buffer.from(
    `${VERSION_LINE}\n-> scrypt ${encodeBase64(salt)} ${logN}\n${encodeBase64(body)}\n---`,
    'latin1',
  );
  const header = Buffer.concat([
    macInput,
    Buffer.from(` ${encodeBase64(headerMac(fileKey, macInput))}\n`, 'latin1'),
  ]);
  if (header.length !== length) throw new Error('age header length');
  return header;
}

/** A fresh file key wrapped under `passphrase`, and the complete header for it. */
export async function writeHeader(
  passphrase: string,
  logN = DEFAULT_SCRYPT_LOG_N,
): Promise<{ header: Buffer; fileKey: Buffer }> {
  const fileKey = newFileKey();
  return { header: await sealHeader(passphrase, fileKey, logN), fileKey };
}

/**
 * Parses the header at the start of `bytes` (which may hold payload after it).
 * Errors: BACKUP_TRUNCATED if `bytes` ends before the header does and `eof`;
 * BACKUP_UNSUPPORTED_VERSION for another age version or a scrypt work factor
 * above MAX_SCRYPT_LOG_N; BACKUP_TAMPERED for anything malformed or not a
 * single scrypt stanza.
 */
export function parseHeader(bytes: Buffer, eof: boolean): ParsedHeader {
  const tampered = (detail: string) => new SottoError('BACKUP_TAMPERED', detail);
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0 || end > MAX_HEADER_BYTES) {
      // A cut inside a plausible header is a truncated file; anything else is not age.
      if (end < 0 && eof && bytes.length <= MAX_HEADER_BYTES) {
        checkLine(bytes.toString('latin1', start), lines.length, false);
        throw new SottoError('BACKUP_TRUNCATED', 'header');
      }
      throw tampered('header');
    }
    const line = bytes.toString('latin1', start, end);
    checkLine(line, lines.length, true);
    lines.push(line);
    start = end + 1;
    if (line.startsWith('---')) break;
  }
  const [, args, body, macLine, ...rest] = lines;
  if (rest.length > 0 || !args || body === undefined || !macLine)
    throw tampered('not a single passphrase stanza');
  const parts = args.split(' ');
  if (parts.length !== 4 || parts[0] !== '->' || parts[1] !== 'scrypt')
    throw tampered('not a passphrase stanza');
  const salt = decodeBase64(parts[2]!);
  if (!salt || salt.length !== SALT_BYTES) throw tampered('salt');
  if (!/^[1-9][0-9]*$/.test(parts[3]!)) throw tampered('work factor');
  const logN = Number(parts[3]);
  const wrappedKey = decodeBase64(body);
  if (!wrappedKey || wrappedKey.length !== FILE_KEY_BYTES + 16) throw tampered('stanza body');
  if (!macLine.startsWith('--- ')) throw tampered('mac line');
  const mac = decodeBase64(macLine.slice(4));
  if (!mac || mac.length !== 32) throw tampered('mac');
  // Last, once the header is known to be well-formed: a file this version will not pay for is
  // not an alteration, so not BACKUP_TAMPERED; and it is refused before any derivation.
  if (logN > MAX_SCRYPT_LOG_N)
    throw new SottoError('BACKUP_UNSUPPORTED_VERSION', 'scrypt work factor');
  const macEnd = start - 1 - (macLine.length - 3); // just after '---'
  return { salt, logN, wrappedKey, macInput: bytes.subarray(0, macEnd), mac, length: start };
}

/** Header lines are printable ASCII; the first names the format and version. */
function checkLine(line: string, index: number, complete: boolean): void {
  if (/[^\x20-\x7e]/.test(line)) throw new SottoError('BACKUP_TAMPERED', 'header');
  if (index !== 0) return;
  const prefix = 'age-encryption.org/';
  if (!complete && (prefix.startsWith(line) || VERSION_LINE.startsWith(line))) return;
  if (!line.startsWith(prefix)) throw new SottoError('BACKUP_TAMPERED', 'not an age file');
  if (complete && line !== VERSION_LINE)
    throw new SottoError('BACKUP_UNSUPPORTED_VERSION', 'age version');
}

/**
 * Recovers the file key: WRONG_BACKUP_PASSPHRASE if the passphrase does not unwrap it
 * (a damaged salt or stanza body cannot be told apart from a wrong passphrase),
 * BACKUP_TAMPERED if the header MAC does not match.
 */
export async function unwrapFileKey(header: ParsedHeader, passphrase: string): Promise<Buffer> {
  const decipher = createDecipheriv(
    'chacha20-poly1305',
    await scryptKey(passphrase, header.salt, header.logN),
    ZERO_NONCE,
    {
      authTagLength: 16,
    },
  );
  decipher.setAuthTag(header.wrappedKey.subarray(FILE_KEY_BYTES));
  let fileKey: Buffer;
  try {
    fileKey = Buffer.concat([
      decipher.update(header.wrappedKey.subarray(0, FILE_KEY_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new SottoError('WRONG_BACKUP_PASSPHRASE');
  }
  if (!timingSafeEqual(headerMac(fileKey, header.macInput), header.mac))
    throw new SottoError('BACKUP_TAMPERED', 'header mac');
  return fileKey;
}
