// The native dialogs behind the contract's file methods (backups, exports):
// the user picks the file in main, so the renderer never names a path.
import { basename, join } from 'node:path';
import { app, type BrowserWindow, dialog } from 'electron';
import { FILE_METHODS, type FileMethodName } from '../../shared/ipc/contract.ts';

/** The file name a save dialog proposes (an export's extension follows its format and encryption). */
export function suggestedFileName(method: FileMethodName, input: unknown): string | undefined {
  const suggested = FILE_METHODS[method].suggestedName;
  if (suggested === null) return undefined;
  if (method !== 'export:conversation' || typeof input !== 'object' || input === null)
    return suggested;
  const { format, passphrase } = input as { format?: unknown; passphrase?: unknown };
  const extension = typeof format === 'string' ? `.${format}` : '';
  return `${suggested}${extension}${typeof passphrase === 'string' ? '.age' : ''}`;
}

/** Shows the save or open dialog for a file method, attached to `window`; undefined if closed. */
export async function chooseFile(
  method: FileMethodName,
  input: unknown,
  window: BrowserWindow,
): Promise<string | undefined> {
  if (FILE_METHODS[method].dialog === 'open') {
    const chosen = await dialog.showOpenDialog(window, { properties: ['openFile'] });
    return chosen.canceled ? undefined : chosen.filePaths[0];
  }
  const name = suggestedFileName(method, input);
  const chosen = await dialog.showSaveDialog(window, {
    ...(name ? { defaultPath: join(app.getPath('documents'), basename(name)) } : {}),
    properties: ['createDirectory', 'showOverwriteConfirmation'],
  });
  return chosen.canceled || !chosen.filePath ? undefined : chosen.filePath;
}

/** The Attach button's open dialog (several files), attached to `window`; undefined if closed. */
export async function chooseFilesToAttach(window: BrowserWindow): Promise<string[] | undefined> {
  const chosen = await dialog.showOpenDialog(window, {
    properties: ['openFile', 'multiSelections'],
  });
  return chosen.canceled ? undefined : chosen.filePaths;
}
