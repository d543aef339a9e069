import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openStoredCopy, storedCopyOf } from '../../attachments/stored-copy.ts';
import { attachmentsOf, saveAttachment } from '../../attachments/attachment-files.ts';
import { attachmentById } from '../../attachments/attachment-rows.ts';
import { fsyncDirectory } from '../../fs-atomic.ts';
import type { Profile } from '../../profile/profile.ts';
import { ExportFileNames, filesFolderName } from './export-file-names.ts';
import { tarFileHeader, tarPadding } from './tar-entries.ts';

// The files of an HTML export (docs/backup-format.md#readable-export): each
// stored attachment decrypted into a folder beside the page (`chat.html` →
// `chat_files/`), under a sanitized unique name, linked from its message.
// Plain exports write the folder under a temporary name and rename it into
// place with the page; encrypted ones put page and files into one tar archive
// inside the age file (`archive`), so no plaintext reaches the disk.

/** An attachment as the page shows it: `href` is null when there is no stored copy (not downloaded). */
export interface ExportedFile {
  readonly name: string;
  readonly href: string | null;
  readonly size: number;
  readonly contentType: string;
}

/** Writes (or, for an archive, collects) the files of one export. */
export class ExportFiles {
  private names = new ExportFileNames();
  private collected: { id: number; path: string; size: number }[] = [];
  private readonly temp: string;
  private madeTemp = false;
  /** The folder's name beside the page (also the archive's folder). */
  readonly folder: string;

  constructor(
    private readonly profile: Profile,
    private readonly pageFile: string,
    private readonly mode: 'folder' | 'archive',
  ) {
    this.folder = filesFolderName(mode === 'archive' ? archivePageName(pageFile) : pageFile);
    this.temp = join(
      dirname(pageFile),
      `.${this.folder}.partial-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
  }

  /** Archive mode: whether any stored file was met (else the page goes alone, not in a tar). */
  get collectedAny(): boolean {
    return this.collected.length > 0;
  }

  /** Starts over with the same names (an archive renders its page twice: once to measure it). */
  reset(): void {
    this.names = new ExportFileNames();
    this.collected = [];
  }

  /** The files of some messages (1:1 or group) by message id; folder mode writes the stored ones now. */
  async of(ids: readonly number[], group: boolean): Promise<Map<number, ExportedFile[]>> {
    const list = attachmentsOf(
      this.profile,
      group ? { groupMessageIds: ids } : { messageIds: ids },
    );
    const byMessage = new Map<number, ExportedFile[]>();
    for (const a of list) {
      const name = this.names.name(a.fileName, a.id);
      const present = attachmentById(this.profile.db, a.id)?.localName != null;
      if (present) await this.keep(a.id, name, a.size);
      const messageId = (group ? a.groupMessageId : a.messageId)!;
      const files = byMessage.get(messageId) ?? [];
      files.push({
        name,
        href: present ? `${encodeURIComponent(this.folder)}/${encodeURIComponent(name)}` : null,
        size: a.size,
        contentType: a.contentType,
      });
      byMessage.set(messageId, files);
    }
    return byMessage;
  }

  /** Archive mode: writes every collected file as a tar entry (decrypted as it streams). */
  async writeArchive(write: (bytes: Buffer) => Promise<void>, now: number): Promise<void> {
    for (const file of this.collected) {
      const row = attachmentById(this.profile.db, file.id);
      const copy = row && storedCopyOf(this.profile.paths.dir, row);
      if (!copy) continue;
      await write(tarFileHeader(file.path, file.size, now));
      for await (const chunk of openStoredCopy(copy)) await write(chunk);
      await write(tarPadding(file.size));
    }
  }

  /** Folder mode: puts the folder in place (replacing an older one of that name). */
  commit(): void {
    if (this.mode !== 'folder' || !this.madeTemp) return;
    const target = join(dirname(this.pageFile), this.folder);
    rmSync(target, { recursive: true, force: true });
    renameSync(this.temp, target);
    fsyncDirectory(dirname(this.pageFile));
  }

  /** Removes what a failed or cancelled export wrote. */
  abort(): void {
    if (this.madeTemp) rmSync(this.temp, { recursive: true, force: true });
  }

  private async keep(id: number, name: string, size: number): Promise<void> {
    if (this.mode === 'archive') {
      this.collected.push({ id, path: `${this.folder}/${name}`, size });
      return;
    }
    if (!this.madeTemp) {
      mkdirSync(this.temp, { mode: 0o700 });
      this.madeTemp = true;
    }
    await saveAttachment(this.profile, id, join(this.temp, name));
  }
}

/** The page's name inside an archive: the export's file name without `.age`. */
export function archivePageName(file: string): string {
  const name = basename(file);
  return name.toLowerCase().endsWith('.age') ? name.slice(0, -4) : name;
}
