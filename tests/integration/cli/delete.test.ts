import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testFile } from '../../support/attachment-relays.ts';
import { cli, cliPair, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// `sotto delete TARGET ID…` as a real process over a folder relay: a contact's
// or a group's messages by the ids `history --json` shows, with their files;
// hostile ids and their exit codes; and a kill -9 between the delete's
// commit and its file removal, which the next open cleans up.

type Line = { id: number; body: string; attachments?: { state: string }[] };

async function json<T>(dir: string, args: string[]): Promise<T> {
  return JSON.parse(await cli(dir, ['--json', ...args])) as T;
}

const storedFiles = (dir: string) =>
  readdirSync(join(dir, 'attachments')).filter((n) => n !== 'tmp');

describe('sotto delete', () => {
  it('deletes a contact’s messages with their files; refuses hostile ids with stable exit codes', async () => {
    const root = tempDir();
    const { alice, bob } = await cliPair(root, join(root, 'relay'));
    await cli(alice, ['send', 'Bob', 'keep me']);
    await cli(alice, [
      'send',
      'Bob',
      '--file',
      testFile(root, 'photo.png', 20_000),
      '--caption',
      'pic',
    ]);
    await cli(alice, ['send', 'Bob', 'delete me']);
    await cli(bob, ['sync']);
    const lines = await json<Line[]>(bob, ['history', 'Alice']);
    expect(lines.map((l) => l.body)).toEqual(['keep me', 'pic', 'delete me']);
    expect(storedFiles(bob)).toHaveLength(1);
    const [keep, pic, gone] = lines.map((l) => l.id) as [number, number, number];

    const refused = async (args: string[]) => (await runCli(bob, ['delete', ...args])).code;
    expect(await refused(['Alice', String(gone), '999999'])).toBe(2); // UNKNOWN_MESSAGE: nothing deleted
    expect(await refused(['Alice', String(gone), String(gone)])).toBe(2); // repeated
    for (const bad of ['0', '-1', '1e3', '99999999999999999999'])
      expect(await refused(['Alice', bad])).toBe(2);
    expect(await refused(['Alice', ...Array.from({ length: 501 }, (_, i) => String(i + 1))])).toBe(
      2,
    );
    expect(await refused(['Nobody', String(gone)])).toBe(6); // UNKNOWN_CONTACT
    expect(await refused(['Alice'])).toBe(2); // no id at all
    const unknown = await runCli(bob, ['delete', 'Alice', String(gone), '999999']);
    expect(unknown.stderr).toContain('UNKNOWN_MESSAGE');
    expect(unknown.stderr).not.toContain('delete me');
    expect((await json<Line[]>(bob, ['history', 'Alice'])).map((l) => l.id)).toEqual([
      keep,
      pic,
      gone,
    ]);

    const deleted = await json<{ messageIds: number[] }>(bob, [
      'delete',
      'Alice',
      String(pic),
      String(gone),
    ]);
    expect(deleted.messageIds.sort()).toEqual([pic, gone].sort());
    expect((await json<Line[]>(bob, ['history', 'Alice'])).map((l) => l.body)).toEqual(['keep me']);
    expect(storedFiles(bob)).toEqual([]);
    expect(await json(bob, ['search', 'delete'])).toEqual([]);
    // Alice's side is untouched: it is not a retraction.
    expect((await json<Line[]>(alice, ['history', 'Bob'])).map((l) => l.body)).toEqual([
      'keep me',
      'pic',
      'delete me',
    ]);
    // An id already deleted is unknown now, like one that never existed.
    expect(await refused(['Alice', String(gone)])).toBe(2);
  });

  it('deletes a group message by its group title; a 1:1 name cannot reach it', async () => {
    const root = tempDir();
    const relay = join(root, 'relay');
    const { alice, bob } = await cliPair(root, relay);
    await cli(alice, ['group', 'create', 'Hikers', '--member', 'Bob']);
    await cli(alice, ['send', 'Hikers', 'meet at nine']);
    await cli(bob, ['sync']);
    const [line] = await json<Line[]>(bob, ['history', 'Hikers']);
    expect(line?.body).toBe('meet at nine');
    expect((await runCli(bob, ['delete', 'Alice', String(line!.id)])).code).toBe(2);
    await cli(bob, ['delete', 'Hikers', String(line!.id)]);
    expect(await json<Line[]>(bob, ['history', 'Hikers'])).toEqual([]);
  });

  it('a kill -9 between the commit and the file removal leaves files that the next open deletes', async () => {
    const root = tempDir();
    const relay = join(root, 'relay');
    const { alice, bob } = await cliPair(root, relay);
    await cli(alice, ['send', 'Bob', '--file', testFile(root, 'doc.pdf', 30_000)]);
    await cli(bob, ['sync']);
    const [line] = await json<Line[]>(bob, ['history', 'Alice']);
    expect(storedFiles(bob)).toHaveLength(1);
    const killed = await runCli(bob, ['delete', 'Alice', String(line!.id)], {
      env: { SOTTO_TEST_FAULT: 'messages.deleted-before-files' },
    });
    expect(killed.signal).toBe('SIGKILL');
    // The rows are gone (committed), the file is still there.
    expect(storedFiles(bob)).toHaveLength(1);
    expect(await json<Line[]>(bob, ['history', 'Alice'])).toEqual([]);
    // That open (history) ran the orphan sweep.
    expect(storedFiles(bob)).toEqual([]);
  });
});
