import { basename, extname } from 'node:path';
import { HIDDEN_CHARACTERS } from '../../../../shared/protocol/hidden-characters.ts';

// Names of the files a readable export writes next to its page. A file name
// comes from whoever sent the attachment, so it is untrusted: it must not
// climb out of the folder (`../x`), name a device (`con`, `NUL.txt` on
// Windows), hide characters (control, bidirectional), collide with another
// file (case-insensitively, as on macOS and Windows) or exceed what file
// systems accept (255 bytes; we keep far below).

/** Bytes of UTF-8 a name may take (255 is the usual file system limit; room left for " (n)"). */
const MAX_NAME_BYTES = 120;
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
// Reserved on Windows or a path separator anywhere.
const RESERVED = /[/\\:*?"<>|]/g;

/** The folder of files beside an export at `file`: `chat.html` → `chat_files` (as browsers save pages). */
export function filesFolderName(file: string): string {
  const name = basename(file);
  const ext = extname(name);
  return `${ext.length > 0 && ext.length < name.length ? name.slice(0, -ext.length) : name}_files`;
}

/** Cuts `text` to at most `bytes` of UTF-8 without splitting a character. */
function cutUtf8(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > bytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/** One export's file names: each call returns a safe name no earlier call returned. */
export class ExportFileNames {
  private readonly taken = new Set<string>();

  /** A safe, unique name for an attachment (its sender's name, or `attachment-<id>` without one). */
  name(fileName: string | null, id: number): string {
    let name = (fileName ?? '')
      .normalize('NFC')
      .replace(HIDDEN_CHARACTERS, '')
      .replace(RESERVED, '_')
      // Leading dots would hide the file or make `..`; trailing dots and spaces Windows drops.
      .replace(/^[.\s]+|[.\s]+$/g, '');
    if (name.length === 0) name = `attachment-${id}`;
    let ext = extname(name);
    let stem = ext.length > 0 ? name.slice(0, -ext.length) : name;
    if (ext.length > 16) {
      stem = name;
      ext = '';
    }
    // Windows reads `aux.tar.gz` as the device AUX too: what counts is the part before the first dot.
    if (WINDOWS_DEVICES.test(stem.split('.')[0]!.trimEnd())) stem = `_${stem}`;
    stem = cutUtf8(stem, MAX_NAME_BYTES - Buffer.byteLength(ext, 'utf8')) || `attachment-${id}`;
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? `${stem}${ext}` : `${stem} (${n})${ext}`;
      const key = candidate.toLowerCase();
      if (!this.taken.has(key)) {
        this.taken.add(key);
        return candidate;
      }
    }
  }
}
