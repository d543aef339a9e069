// The POSIX tar (pax) framing of an encrypted readable export with files: the
// page and its files as entries of one archive inside the age file, so
// nothing is written unencrypted. Only what that needs: regular files, a pax
// `path` record for every entry (names may be long or non-ASCII), sizes in
// the ustar octal field (up to 8 GiB, far above any attachment).

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'utf8');
}

const octal = (value: number, digits: number) => value.toString(8).padStart(digits, '0');

function ustar(name: string, size: number, type: '0' | 'x', mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  // The ustar name is a plain ASCII stand-in; readers take the pax path.
  field(header, 0, 100, name.replace(/[^\x20-\x7e]/g, '_').slice(0, 99));
  field(header, 100, 8, '0000600\0');
  field(header, 108, 8, '0000000\0');
  field(header, 116, 8, '0000000\0');
  field(header, 124, 12, `${octal(size, 11)}\0`);
  field(header, 136, 12, `${octal(mtime, 11)}\0`);
  field(header, 148, 8, '        ');
  field(header, 156, 1, type);
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${octal(sum, 6)}\0 `);
  return header;
}

/** Zero bytes that complete an entry of `size` bytes to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The headers of a regular file entry at `path` of `size` bytes: a pax `path` record, then the ustar header. */
export function tarFileHeader(path: string, size: number, mtimeMs: number): Buffer {
  const mtime = Math.floor(mtimeMs / 1000);
  const body = ` path=${path}\n`;
  // The record's length counts its own digits.
  let length = Buffer.byteLength(body, 'utf8') + 1;
  while (String(length).length + Buffer.byteLength(body, 'utf8') !== length) length++;
  const record = Buffer.from(`${length}${body}`, 'utf8');
  return Buffer.concat([
    ustar('PaxHeader', record.length, 'x', mtime),
    record,
    tarPadding(record.length),
    ustar(path, size, '0', mtime),
  ]);
}

/** The end of an archive: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);
