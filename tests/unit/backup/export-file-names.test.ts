import { describe, expect, it } from 'vitest';
import {
  ExportFileNames,
  filesFolderName,
} from '../../../electron/core/backup/readable/export-file-names.ts';

// The names a readable export gives attachment files beside its page: whatever
// a sender called a file, the name stays inside the folder, names no device,
// hides nothing, collides with nothing and fits every file system.

describe('readable export file names', () => {
  it('path traversal, separators and leading dots never leave the folder', () => {
    const names = new ExportFileNames();
    for (const hostile of ['../x', '..\\x', '/etc/passwd', '..', '.', '.hidden', 'a/../../b'])
      expect(names.name(hostile, 1)).not.toMatch(/^\.|[/\\]/);
    expect(new ExportFileNames().name('../x', 1)).toBe('_x');
  });

  it('an empty or all-invisible name becomes attachment-<id>', () => {
    const names = new ExportFileNames();
    expect(names.name('', 7)).toBe('attachment-7');
    expect(names.name(null, 8)).toBe('attachment-8');
    expect(names.name('\u202e\u0000\u001f ', 9)).toBe('attachment-9');
    expect(names.name('...', 10)).toBe('attachment-10');
  });

  it('Windows device names, with or without an extension, in any case, get a prefix', () => {
    const names = new ExportFileNames();
    expect(
      ['con', 'CON.txt', 'Nul', 'com1.log', 'LPT9', 'aux.tar.gz'].map((n) => names.name(n, 1)),
    ).toEqual(['_con', '_CON.txt', '_Nul', '_com1.log', '_LPT9', '_aux.tar.gz']);
    expect(names.name('console.txt', 1)).toBe('console.txt');
  });

  it('control and bidirectional characters are removed, reserved ones replaced, Unicode kept in NFC', () => {
    const names = new ExportFileNames();
    expect(names.name('in\u202egnp.exe', 1)).toBe('ingnp.exe');
    expect(names.name('tab\there\u0085.txt', 1)).toBe('tabhere.txt');
    expect(names.name('a:b*c?"d"<e>|f.txt', 1)).toBe('a_b_c__d__e__f.txt');
    const nfd = 're\u0301sume\u0301 📄.txt';
    expect(names.name(nfd, 1)).toBe('résumé 📄.txt'.normalize('NFC'));
  });

  it('collisions, case-insensitive, get a number before the extension', () => {
    const names = new ExportFileNames();
    expect(
      ['Report.txt', 'report.txt', 'REPORT.TXT', 'report (2).txt'].map((n) => names.name(n, 1)),
    ).toEqual(['Report.txt', 'report (2).txt', 'REPORT (3).TXT', 'report (2) (2).txt']);
  });

  it('very long names are cut to 120 bytes of UTF-8 on a character boundary, keeping the extension', () => {
    const names = new ExportFileNames();
    const long = names.name(`${'x'.repeat(300)}.pdf`, 1);
    expect(long.endsWith('.pdf')).toBe(true);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(120);
    const emoji = names.name(`${'📄'.repeat(100)}.txt`, 2);
    expect(Buffer.byteLength(emoji)).toBeLessThanOrEqual(120);
    expect(emoji).not.toContain('\ufffd');
    expect([...emoji.slice(0, -4)].every((c) => c === '📄')).toBe(true);
    // Same cut prefix twice: still two names.
    expect(names.name(`${'x'.repeat(300)}.pdf`, 3)).not.toBe(long);
  });

  it('the folder is named after the page', () => {
    expect(filesFolderName('/tmp/chat.html')).toBe('chat_files');
    expect(filesFolderName('/tmp/export')).toBe('export_files');
    expect(filesFolderName('/tmp/.html')).toBe('.html_files');
  });
});
