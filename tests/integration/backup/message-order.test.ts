import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportBackup } from '../../../electron/core/index.ts';
import { AgeFileReader } from '../../../electron/core/backup/age/file.ts';
import { MESSAGE_SPAN } from '../../../electron/core/backup/message-sql.ts';
import { addHistory, BACKUP_PASSPHRASE, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';

// The export builds message lines in SQLite and relies on the scan order of
// `messages` (no sort inside group_concat) and on a conversation → account
// map. The stream must still list messages in id order ("in the order they
// were stored"), each line exactly as the format documents it.

async function plaintextLines(file: string): Promise<string[]> {
  const age = await AgeFileReader.open(file, BACKUP_PASSPHRASE);
  const chunks: Buffer[] = [];
  try {
    for (let chunk = await age.next(); chunk; chunk = await age.next()) chunks.push(chunk);
  } finally {
    await age.close();
  }
  return Buffer.concat(chunks).toString('utf8').split('\n');
}

describe('message order in a backup', () => {
  it('lists messages by id across blocks, even when sent times and conversations do not follow ids', async () => {
    const { profile } = await newProfile('Orderly');
    const base = Date.UTC(2024, 0, 1);
    // Stored first but sent later, then stored later but sent earlier; conversations interleave.
    const peers = addHistory(profile, Math.round(MESSAGE_SPAN * 2.5), {
      contacts: 4,
      startAt: base + 100_000_000,
    });
    addHistory(profile, Math.round(MESSAGE_SPAN * 2.5), {
      contacts: 0,
      extraPeers: peers,
      startAt: base,
      seed: 3,
    });
    const expected = profile.db
      .prepare(
        `SELECT m.uuid, k.account_id AS "with", m.outgoing, m.sender_account, m.sender_device, m.sent_at, m.received_at, m.status, m.body
         FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id ORDER BY m.id`,
      )
      .all<{
        uuid: string;
        with: string;
        outgoing: number;
        sender_account: string;
        sender_device: number;
        sent_at: number;
        received_at: number;
        status: string;
        body: string;
      }>()
      .map((m) =>
        JSON.stringify({
          type: 'message',
          uuid: m.uuid,
          with: m.with,
          outgoing: m.outgoing === 1,
          senderAccount: m.sender_account,
          senderDevice: m.sender_device,
          sentAt: m.sent_at,
          receivedAt: m.received_at,
          status: m.status,
          body: m.body,
        }),
      );
    // The id order is not the order of any index: a plan that walked one would fail here.
    const bySent = [...expected].sort(
      (a, b) =>
        (JSON.parse(a) as { sentAt: number }).sentAt - (JSON.parse(b) as { sentAt: number }).sentAt,
    );
    expect(bySent).not.toEqual(expected);

    const file = join(tempDir(), 'order.age');
    await exportBackup(profile, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    await profile.close();

    const messages = (await plaintextLines(file)).filter((line) =>
      line.startsWith('{"type":"message"'),
    );
    expect(messages.length).toBe(expected.length);
    expect(messages).toEqual(expected);
  });
});
