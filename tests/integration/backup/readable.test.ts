import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { exportConversation, listContacts } from '../../../electron/core/index.ts';
import { addHistory, BACKUP_PASSPHRASE, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { CLI_PASSPHRASE, runCli } from '../../support/cli.ts';
import { rejectedCode } from '../../support/errors.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';

// Readable exports: one conversation or all, HTML / JSON / Markdown, a date
// range, optional age encryption. User content never becomes markup.

const START = Date.UTC(2024, 0, 1);

async function setup() {
  const { profile, dir } = await newProfile('Reader', CLI_PASSPHRASE);
  const [first] = addHistory(profile, 300, { contacts: 3, startAt: START }); // one message a second from START
  const contact = listContacts(profile.db).find((c) => c.accountId === first)!;
  return { profile, dir, contact };
}

describe('readable export', () => {
  it('HTML is one self-contained file with every body escaped, limited to the date range', async () => {
    const { profile, contact } = await setup();
    const file = join(tempDir(), 'chat.html');
    const report = await exportConversation(profile, file, {
      conversation: contact.accountId,
      format: 'html',
      from: START + 10_000,
      to: START + 100_000,
    });
    const html = readFileSync(file, 'utf8');
    const expected = Number(
      profile.db
        .prepare(
          'SELECT count(*) FROM messages WHERE conversation_id = ? AND sent_at BETWEEN ? AND ?',
          { pluck: true },
        )
        .get([contact.conversationId, START + 10_000, START + 100_000]),
    );
    expect(report).toMatchObject({ conversations: 1, messages: expected });
    expect(expected).toBeGreaterThan(0);
    expect((html.match(/<article /g) ?? []).length).toBe(expected);
    expect(html).toContain('&#60;b&#62;8&#60;/b&#62;');
    expect(html).not.toMatch(/<b>|<\/script>|<script|src=|href=/i);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain(`Contact 0 &#60;0&#62;`);
  });

  it('JSON of all conversations parses and holds every message once; Markdown escapes markup', async () => {
    const { profile } = await setup();
    const dir = tempDir();
    await exportConversation(profile, join(dir, 'all.json'), {
      conversation: 'all',
      format: 'json',
    });
    const doc = JSON.parse(readFileSync(join(dir, 'all.json'), 'utf8')) as {
      format: string;
      conversations: { contact: { name: string }; messages: { id: string; body: string }[] }[];
    };
    expect(doc.format).toBe('sotto-export');
    expect(doc.conversations).toHaveLength(3);
    const ids = doc.conversations.flatMap((c) => c.messages.map((m) => m.id));
    expect(new Set(ids).size).toBe(300);
    expect(
      doc.conversations.flatMap((c) => c.messages).some((m) => m.body.includes('<b>8</b>')),
    ).toBe(true);

    await exportConversation(profile, join(dir, 'all.md'), { conversation: 'all', format: 'md' });
    const md = readFileSync(join(dir, 'all.md'), 'utf8');
    expect(md).toContain('\\<b\\>8\\</b\\>');
    expect(md).not.toContain('<b>');
    expect((md.match(/^> /gm) ?? []).length).toBeGreaterThanOrEqual(300);
  });

  it('--encrypt writes an age file the age-encryption library opens; a weak passphrase is refused and nothing is written', async () => {
    const { profile, contact } = await setup();
    const dir = tempDir();
    const file = join(dir, 'chat.html.age');
    await exportConversation(profile, file, {
      conversation: contact.accountId,
      format: 'html',
      encryptWith: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    const d = new Decrypter();
    d.addPassphrase(BACKUP_PASSPHRASE);
    const html = await d.decrypt(readFileSync(file), 'text');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(
      await rejectedCode(() =>
        exportConversation(profile, join(dir, 'weak.html'), {
          conversation: 'all',
          format: 'html',
          encryptWith: 'abc',
        }),
      ),
    ).toBe('WEAK_PASSPHRASE');
    expect(
      await rejectedCode(() =>
        exportConversation(profile, join(dir, 'x.html'), {
          conversation: 'nobody',
          format: 'html',
        }),
      ),
    ).toBe('UNKNOWN_CONTACT');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual(['chat.html.age']);
  });

  it('the CLI: sotto export CONTACT --format md --from --to FILE', async () => {
    const { profile, dir, contact } = await setup();
    await profile.close();
    const out = join(tempDir(), 'c.md');
    const result = await runCli(dir, [
      '--json',
      'export',
      contact.displayName!,
      '--format',
      'md',
      '--from',
      '2024-01-01',
      '--to',
      '2024-01-01',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ conversations: 1, messages: 100 });
    expect(readFileSync(out, 'utf8')).toContain('## Contact 0 \\<0\\>');
  });
});
