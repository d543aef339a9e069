import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  addContactFromInvite,
  attachmentsOf,
  processEnvelopes,
  type Profile,
} from '../../../electron/core/index.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { thrownCode } from '../../support/errors.ts';
import { malloryReachesBob, sealedContent } from '../../support/hostile-content.ts';
import { inviteOf, newProfile } from '../../support/profiles.ts';
import { delivered } from '../../support/sealing.ts';

// Names a sender chooses and the receiver shows: the `name` of a first message
// (it names a contact who wrote first) and an attachment's `fileName`. A
// stranger or a contact gone hostile picks them, so characters that rewrite
// how a line reads (bidirectional overrides: "invoice‮fdp.exe" shows as
// "invoiceexe.pdf") or that a terminal obeys (ESC sequences in `sotto
// contacts`) must not reach the contact list, the file card or the CLI.

function text(extra: Record<string, unknown>) {
  return { v: 1, type: 'text', id: randomUUID(), sentAt: Date.now(), body: 'hi', ...extra };
}

function contactName(profile: Profile, accountId: string): unknown {
  return profile.db
    .prepare('SELECT display_name FROM contacts WHERE account_id = ?', { pluck: true })
    .get([accountId]);
}

/** The outcomes of Bob processing Mallory's `json`. */
async function receive(bob: Profile, mallory: Profile, json: unknown): Promise<string[]> {
  const body = await sealedContent(mallory, bob, json);
  return (await processEnvelopes(bob, [delivered(body)])).map((o) => o.outcome);
}

describe("a stranger's first message names her", () => {
  it('with a terminal escape or a bidirectional override: the message is kept, the name is not', async () => {
    for (const name of ['Alice\u001b[2J\u001b[31m', 'Bob\u202egnp.exe', 'Carol\u0085\u009b1m']) {
      const { bob, mallory } = await malloryReachesBob();
      expect(await receive(bob, mallory, text({ name }))).toEqual(['stored']);
      expect(contactName(bob, mallory.account.accountId)).toBeNull();
    }
  });

  it('control: a plain name is taken, as its sender normalized it', async () => {
    const { bob, mallory } = await malloryReachesBob();
    expect(await receive(bob, mallory, text({ name: 'Mallory' }))).toEqual(['stored']);
    expect(contactName(bob, mallory.account.accountId)).toBe('Mallory');
  });
});

describe("a contact's attachment names its file", () => {
  const pointer = (fileName: string) => ({
    blobId: 'A'.repeat(22),
    key: toBase64(new Uint8Array(64).fill(1)),
    digest: toBase64(new Uint8Array(32).fill(2)),
    size: 1000,
    contentType: 'application/pdf',
    fileName,
  });

  it('hidden characters (bidirectional controls, C1 controls, line separators) are dropped from the name shown', async () => {
    const { bob, mallory } = await malloryReachesBob();
    const names = ['invoice\u202efdp.exe', 'report\u2066\u2069.pdf', 'a\u0085b\u009bc\u2028d.txt'];
    const json = text({ body: '', attachments: names.map(pointer) });
    expect(await receive(bob, mallory, json)).toEqual(['stored']);
    const messageId = bob.db.prepare('SELECT id FROM messages', { pluck: true }).get() as number;
    expect(attachmentsOf(bob, { messageIds: [messageId] }).map((a) => a.fileName)).toEqual([
      'invoicefdp.exe',
      'report.pdf',
      'abcd.txt',
    ]);
  });

  it('a name made only of hidden characters is no name (the card shows the kind)', async () => {
    const { bob, mallory } = await malloryReachesBob();
    expect(await receive(bob, mallory, text({ attachments: [pointer('\u202e\u2066')] }))).toEqual([
      'stored',
    ]);
    const messageId = bob.db.prepare('SELECT id FROM messages', { pluck: true }).get() as number;
    expect(attachmentsOf(bob, { messageIds: [messageId] }).map((a) => a.fileName)).toEqual([null]);
  });
});

describe('an invite names its sender', () => {
  async function inviteNamed(name: string): Promise<string> {
    const { profile: mallory } = await newProfile('Mallory');
    return inviteOf(mallory, { name });
  }

  it('with a terminal escape or a bidirectional override: INVALID_INVITE, nothing stored', async () => {
    const { profile: bob } = await newProfile('Bob');
    for (const name of ['Alice\u001b]0;pwned\u0007', 'Bob\u202egnp.exe', ' \u0085 ']) {
      const invite = await inviteNamed(name);
      expect(thrownCode(() => addContactFromInvite(bob, invite))).toBe('INVALID_INVITE');
    }
    expect(bob.db.prepare('SELECT count(*) FROM contacts', { pluck: true }).get()).toBe(0);
  });

  it('control: a plain name is taken', async () => {
    const { profile: bob } = await newProfile('Bob');
    const contact = addContactFromInvite(bob, await inviteNamed('Mallory'));
    expect(contact.displayName).toBe('Mallory');
  });
});
