import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliInit, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// `sotto group …`, `groups`, and `send`/`history` with a group, as real
// processes over a folder relay.

type GroupJson = {
  groupId: string;
  title: string;
  standing: string;
  members: { name: string; admin: boolean }[];
};
type Line = {
  body: string;
  outgoing: boolean;
  senderName: string | null;
  delivered?: { count: number; of: number };
};

async function json<T>(dir: string, args: string[]): Promise<T> {
  return JSON.parse(await cli(dir, ['--json', ...args])) as T;
}

describe('sotto group', () => {
  it('create, send, history, remove and refusals, end to end', async () => {
    const root = tempDir();
    const relay = join(root, 'relay');
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => join(root, n)) as [
      string,
      string,
      string,
    ];
    await cliInit(alice, 'Alice', relay);
    await cliInit(bob, 'Bob', relay);
    await cliInit(carol, 'Carol', relay);
    for (const other of [bob, carol]) {
      await cli(other, ['contact', 'add', (await cli(alice, ['invite'])).trim()]);
      await cli(alice, ['contact', 'add', (await cli(other, ['invite'])).trim()]);
    }

    const created = await json<GroupJson>(alice, [
      'group',
      'create',
      'Hikers',
      '--member',
      'Bob',
      '--member',
      'Carol',
    ]);
    expect(created.members.map((m) => m.name)).toEqual(['Alice', 'Bob', 'Carol']);
    await cli(bob, ['sync']);
    await cli(carol, ['sync']);
    const bobGroups = await json<GroupJson[]>(bob, ['groups']);
    expect(bobGroups).toMatchObject([
      { title: 'Hikers', standing: 'member', groupId: created.groupId },
    ]);

    expect(await json(alice, ['send', 'Hikers', 'hi all'])).toEqual({ queued: 1, sent: 1 });
    await cli(bob, ['sync']);
    await cli(carol, ['sync']);
    for (const dir of [bob, carol]) {
      expect(await json<Line[]>(dir, ['history', 'Hikers'])).toMatchObject([
        { body: 'hi all', outgoing: false, senderName: 'Alice' },
      ]);
    }
    // Bob never added Carol: the group made her reachable.
    await cli(bob, ['send', 'Hikers', 'hi from Bob']);
    await cli(carol, ['sync']);
    await cli(alice, ['sync']);
    expect((await json<Line[]>(carol, ['history', 'Hikers'])).map((l) => l.body)).toEqual([
      'hi all',
      'hi from Bob',
    ]);

    // Search finds group messages (under their group); export writes the group's conversation.
    const hits = await json<{ body: string; groupTitle?: string }[]>(carol, ['search', 'from Bob']);
    expect(hits).toMatchObject([{ body: 'hi from Bob', groupTitle: 'Hikers' }]);
    const exported = join(root, 'hikers.html');
    await cli(carol, ['export', 'Hikers', '--format', 'html', exported]);
    const html = readFileSync(exported, 'utf8');
    expect(html).toContain('Hikers <span class="meta">group ');
    expect(html).toContain('hi from Bob');
    const info = await json<{ members: { identityChanged: boolean }[] }>(carol, [
      'group',
      'info',
      'Hikers',
    ]);
    expect(info.members.map((m) => m.identityChanged)).toEqual([false, false, false]);

    // A non-admin cannot rename: exit 6, NOT_GROUP_ADMIN, nothing changes.
    const refused = await runCli(bob, ['group', 'rename', 'Hikers', 'Bob club']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('NOT_GROUP_ADMIN');
    const missing = await runCli(bob, ['history', 'No such group']);
    expect(missing.code).toBe(6);

    await cli(alice, ['group', 'remove', 'Hikers', 'Carol']);
    await cli(bob, ['sync']);
    await cli(carol, ['sync']);
    expect(
      (await json<GroupJson>(bob, ['group', 'info', 'Hikers'])).members.map((m) => m.name),
    ).toEqual(['Alice', 'Bob']);
    expect((await json<GroupJson>(carol, ['group', 'info', 'Hikers'])).standing).toBe('removed');
    await cli(alice, ['send', 'Hikers', 'without Carol']);
    await cli(bob, ['sync']);
    await cli(carol, ['sync']);
    expect((await json<Line[]>(bob, ['history', 'Hikers'])).map((l) => l.body)).toContain(
      'without Carol',
    );
    expect((await json<Line[]>(carol, ['history', 'Hikers'])).map((l) => l.body)).not.toContain(
      'without Carol',
    );
  }, 300_000);
});
