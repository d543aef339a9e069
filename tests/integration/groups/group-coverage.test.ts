import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportConversation } from '../../../electron/core/index.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { searchGroupMessages } from '../../../electron/core/groups/group-search.ts';
import { aliceBobCarol, settle } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';

// Search, readable export and the at-rest scan cover groups: what was said
// in a group is found, exported under its group and sender, and nowhere on
// disk (profiles or relay) in the clear.

const SECRET = 'the treasure is under the old lighthouse';
const CJK = '秘密の会議は金曜日です';
const TITLE = 'Secret Society Of Lighthouse Keepers';

async function world() {
  const { alice, bob, carol, all, group, relay } = await aliceBobCarol(TITLE, {
    names: ['Alice Wonderland-Secret', 'Bob Hiddenname', 'Carol Unseen'],
  });
  queueGroupText(alice.profile, group.groupId, SECRET);
  await settle(all);
  queueGroupText(carol.profile, group.groupId, CJK);
  queueGroupText(bob.profile, group.groupId, '<script>alert(1)</script> & more');
  await settle(all);
  return { alice, bob, carol, all, group, relay };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function needles(secret: string): Buffer[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    bytes,
    Buffer.from(secret, 'utf16le'),
    Buffer.from(bytes.toString('hex')),
    Buffer.from(bytes.toString('base64')),
  ];
}

describe('groups in search, readable export and at rest', () => {
  it('search finds group messages (words, prefixes, CJK) with their group and sender', async () => {
    const { bob, group } = await world();
    const hits = searchGroupMessages(bob.profile.db, 'treasure lightho');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      body: SECRET,
      groupId: group.groupId,
      groupTitle: TITLE,
      senderName: 'Alice Wonderland-Secret',
      outgoing: false,
    });
    expect(searchGroupMessages(bob.profile.db, '会議').map((h) => h.body)).toEqual([CJK]);
    expect(searchGroupMessages(bob.profile.db, 'script').map((h) => h.outgoing)).toEqual([true]);
    expect(searchGroupMessages(bob.profile.db, '"unbalanced')).toEqual([]);
    expect(searchGroupMessages(bob.profile.db, 'nothinglikethis')).toEqual([]);
  }, 180_000);

  it('a readable export of everything includes the group, each message under its sender, escaped', async () => {
    const { carol, group } = await world();
    const file = join(tempDir(), 'all.html');
    const report = await exportConversation(carol.profile, file, {
      conversation: 'all',
      format: 'html',
    });
    const html = readFileSync(file, 'utf8');
    expect(report.messages).toBe(3);
    expect(html).toContain(`<h2>${TITLE} <span class="meta">group ${group.groupId}`);
    expect(html).toContain('Alice Wonderland-Secret');
    expect(html).toContain('Bob Hiddenname');
    expect(html).toContain(SECRET);
    expect(html).toContain(CJK);
    expect(html).not.toMatch(/<script/i);
    expect((html.match(/<article /g) ?? []).length).toBe(3);
    const json = join(tempDir(), 'group.json');
    await exportConversation(carol.profile, json, {
      conversation: 'all',
      group: group.groupId,
      format: 'json',
    });
    const parsed = JSON.parse(readFileSync(json, 'utf8')) as {
      conversations: {
        group: { groupId: string; title: string };
        messages: { sender: string; outgoing: boolean }[];
      }[];
    };
    expect(parsed.conversations).toHaveLength(1);
    expect(parsed.conversations[0]!.group).toEqual({ groupId: group.groupId, title: TITLE });
    const senders = parsed.conversations[0]!.messages.map((m) => `${m.sender}/${m.outgoing}`);
    expect(senders[0]).toBe('Alice Wonderland-Secret/false'); // sent first, alone
    expect(senders.slice(1).sort()).toEqual(['Bob Hiddenname/false', 'Carol Unseen/true']);
    await expect(
      exportConversation(carol.profile, join(tempDir(), 'x.json'), {
        conversation: 'all',
        group: Buffer.alloc(32, 7).toString('base64'),
        format: 'json',
      }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_GROUP' });
  }, 180_000);

  it('no file of any profile or of the relay holds group text, title or member names in the clear', async () => {
    const { all, relay } = await world();
    const secrets = [
      SECRET,
      CJK,
      TITLE,
      'Alice Wonderland-Secret',
      'Bob Hiddenname',
      'Carol Unseen',
    ];
    for (const phase of ['open', 'closed']) {
      if (phase === 'closed') for (const p of all) await p.profile.close();
      const files = [...all.flatMap((p) => filesUnder(p.dir)), ...filesUnder(relay)];
      expect(files.length).toBeGreaterThan(10);
      for (const path of files) {
        const bytes = readFileSync(path);
        for (const secret of secrets)
          for (const needle of needles(secret))
            expect(bytes.includes(needle), `${phase}: ${path} leaks a secret`).toBe(false);
      }
    }
  }, 180_000);
});
