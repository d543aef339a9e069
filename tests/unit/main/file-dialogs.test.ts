import { beforeEach, describe, expect, it, vi } from 'vitest';

// Electron's binary cannot run on these machines: 'electron' is the recording
// fake in fake-electron.ts, with scripted dialog answers.
vi.mock('electron', () => import('./fake-electron.ts'));

const fake = await import('./fake-electron.ts');
const { chooseFile, suggestedFileName } = await import('../../../electron/main/file-dialogs.ts');
const window = new fake.BrowserWindow({});

beforeEach(() => {
  fake.dialog.shown.length = 0;
  fake.dialog.nextOpen = undefined;
  fake.dialog.nextSave = undefined;
});

describe('file dialogs', () => {
  it('proposes names that say what the file is', () => {
    expect(suggestedFileName('backup:export', {})).toBe('sotto-backup.age');
    expect(suggestedFileName('export:conversation', { format: 'html' })).toBe('sotto-export.html');
    expect(suggestedFileName('export:conversation', { format: 'json', passphrase: 'x' })).toBe(
      'sotto-export.json.age',
    );
    expect(suggestedFileName('backup:restore', {})).toBeUndefined();
  });

  it('saves through a save dialog attached to the window, in Documents', async () => {
    fake.dialog.nextSave = '/home/ann/Documents/sotto-backup.age';
    expect(await chooseFile('backup:export', { recoveryKey: true }, window as never)).toBe(
      '/home/ann/Documents/sotto-backup.age',
    );
    const [kind, parent, options] = fake.dialog.shown[0]!;
    expect([kind, parent]).toEqual(['save', window]);
    expect(options['defaultPath']).toBe('/fake/documents/sotto-backup.age');
  });

  it('opens through an open dialog for one file', async () => {
    fake.dialog.nextOpen = '/media/usb/sotto-backup.age';
    expect(await chooseFile('backup:restore', {}, window as never)).toBe(
      '/media/usb/sotto-backup.age',
    );
    expect(fake.dialog.shown[0]?.[2]).toEqual({ properties: ['openFile'] });
  });

  it('returns undefined when the user closes the dialog', async () => {
    expect(await chooseFile('backup:verify', {}, window as never)).toBeUndefined();
    expect(
      await chooseFile('export:conversation', { format: 'md' }, window as never),
    ).toBeUndefined();
  });
});
