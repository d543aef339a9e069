// The token → path table behind the Attach button
// (docs/architecture.md#attachments-in-the-app). Main's open dialog puts the
// picked files here and the renderer gets opaque tokens: it never sees a path.
// A token is unguessable, bound to the window (web contents) that picked it,
// expires after PICK_TTL_MS and is used up by the send that names it. Main
// reads a picked image's or video's bytes for the renderer to measure, but
// never decodes them. Free of Electron, so tests and the Chromium harness run it as is.
import { randomBytes } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { isMeasurable, type PickedFileView } from '../../shared/ipc/attachment-picks.ts';
import { MAX_ATTACHMENTS_PER_MESSAGE } from '../../shared/protocol/attachment.ts';
import { contentTypeOf } from '../core/attachments/content-types.ts';
import { SottoError } from '../core/errors.ts';

/** How long a pick stays usable: long enough to type a caption, short enough that a leaked token soon dies. */
export const PICK_TTL_MS = 15 * 60_000;
/** Tokens one window may hold at once; picking more forgets the oldest. */
export const MAX_PICKS_PER_WINDOW = 4 * MAX_ATTACHMENTS_PER_MESSAGE;

/** A picked file resolved for a send: the path main hands the core. */
export interface PickedPath {
  readonly path: string;
}

interface Pick {
  readonly owner: number;
  readonly path: string;
  readonly size: number;
  /** An image or video type the renderer decodes, small enough to hand over for measuring. */
  readonly measurable: boolean;
  readonly expiresAt: number;
}

/** One table per main process (tokens do not survive a restart). */
export class PickRegistry {
  readonly #picks = new Map<string, Pick>();
  /** Tokens of a send the core has not answered yet: no other call may use them meanwhile. */
  readonly #sending = new Set<string>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Registers the files `owner` (a web contents id) picked; one token each.
   * INVALID_INPUT for more than MAX_ATTACHMENTS_PER_MESSAGE files or one that
   * is not a regular file.
   */
  async add(owner: number, paths: readonly string[]): Promise<PickedFileView[]> {
    if (paths.length === 0 || paths.length > MAX_ATTACHMENTS_PER_MESSAGE)
      throw new SottoError('INVALID_INPUT', 'picked file count');
    const views: PickedFileView[] = [];
    const added: [string, Pick][] = [];
    for (const path of paths) {
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) throw new SottoError('INVALID_INPUT', 'not a file');
      const name = basename(path).slice(0, 255);
      const contentType = contentTypeOf(extname(name));
      const token = randomBytes(32).toString('base64url');
      const measurable = isMeasurable(contentType, info.size);
      const expiresAt = this.#now() + PICK_TTL_MS;
      added.push([token, { owner, path, size: info.size, measurable, expiresAt }]);
      views.push({ token, name, size: info.size, contentType, measurable });
    }
    this.#sweep();
    for (const [token, pick] of added) this.#picks.set(token, pick);
    this.#trim(owner);
    return views;
  }

  /** The bytes of a measurable picked image or video, for its owner to measure; the token stays usable. */
  async bytes(owner: number, token: string): Promise<ArrayBuffer> {
    const pick = this.#valid(owner, token);
    if (!pick.measurable) throw new SottoError('INVALID_INPUT', 'not measurable');
    // One byte past the picked size, never more: a file that grew since the pick is not read whole.
    const buffer = new Uint8Array(pick.size + 1);
    const read = await readAtMost(pick.path, buffer).catch(() => {
      throw new SottoError('ATTACHMENT_PICK_EXPIRED', 'file gone');
    });
    // A file that changed since the pick is not the one the user picked.
    if (read !== pick.size) throw new SottoError('ATTACHMENT_PICK_EXPIRED', 'changed');
    return buffer.buffer.slice(0, read);
  }

  /**
   * Reserves `tokens` for a send by `owner`: all of them, or none when any is
   * unknown, expired, used, already in a send, another window's, or named
   * twice (ATTACHMENT_PICK_EXPIRED: the same answer for each, no oracle).
   * `settle` then uses them up, or gives them back if the core refused the send.
   */
  reserve(owner: number, tokens: readonly string[]): PickedPath[] {
    if (new Set(tokens).size !== tokens.length)
      throw new SottoError('ATTACHMENT_PICK_EXPIRED', 'token named twice');
    const picks = tokens.map((token) => this.#valid(owner, token));
    for (const token of tokens) this.#sending.add(token);
    return picks.map((pick) => ({ path: pick.path }));
  }

  /** Ends the send that reserved `tokens`: used up if `sent`, usable again (until they expire) if not. */
  settle(tokens: readonly string[], sent: boolean): void {
    for (const token of tokens) {
      this.#sending.delete(token);
      if (sent) this.#picks.delete(token);
    }
  }

  /** Forgets every pick of `owner` (its window closed or navigated). */
  forget(owner: number): void {
    for (const [token, pick] of this.#picks) if (pick.owner === owner) this.#picks.delete(token);
  }

  /** Forgets every pick (the app locked: the renderer emptied its tray too). */
  clear(): void {
    this.#picks.clear();
  }

  /** Tokens held (all windows): for tests and the leak check. */
  get size(): number {
    this.#sweep();
    return this.#picks.size;
  }

  #valid(owner: number, token: string): Pick {
    const pick = this.#picks.get(token);
    if (!pick || pick.owner !== owner || pick.expiresAt <= this.#now() || this.#sending.has(token))
      throw new SottoError('ATTACHMENT_PICK_EXPIRED');
    return pick;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [token, pick] of this.#picks) if (pick.expiresAt <= now) this.#picks.delete(token);
  }

  /** Keeps at most MAX_PICKS_PER_WINDOW of `owner`'s tokens, the newest (a Map iterates in insertion order). */
  #trim(owner: number): void {
    const mine = [...this.#picks].filter(([, pick]) => pick.owner === owner);
    for (const [token] of mine.slice(0, Math.max(0, mine.length - MAX_PICKS_PER_WINDOW)))
      this.#picks.delete(token);
  }
}

/** Reads from the start of `path` into `buffer` until it is full or the file ends; the bytes read. */
async function readAtMost(path: string, buffer: Uint8Array): Promise<number> {
  const file = await open(path, 'r');
  try {
    let total = 0;
    while (total < buffer.byteLength) {
      const { bytesRead } = await file.read(buffer, total, buffer.byteLength - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return total;
  } finally {
    await file.close();
  }
}
