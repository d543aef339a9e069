import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import {
  connectAnonymous,
  newDevice,
  registeredDevice,
  relayDataDir,
  type TestDevice,
} from '../../support/relay-client.ts';
import { startRelayProcess } from '../../support/relay-process.ts';
import { publishedKeysFor, sendOk } from './fixtures.ts';

/** Every way an account id could be written down: UUID text, bare hex, the 16 raw bytes. */
function forms(device: TestDevice): Buffer[] {
  const hex = device.accountId.replace(/-/g, '');
  return [
    Buffer.from(device.accountId),
    Buffer.from(hex),
    Buffer.from(hex.toUpperCase()),
    Buffer.from(hex, 'hex'),
  ];
}

describe('what the relay keeps after a conversation', () => {
  it('no envelope row, and nothing in relay.db, its WAL or the log, names a sender', async () => {
    const dataDir = relayDataDir();
    const relay = await startRelayProcess(dataDir, { env: { SOTTO_RELAY_LOG: 'debug' } });
    // Alice and Bob live on this relay; Carol's home relay is elsewhere: she only ever sends here.
    const alice = await registeredDevice(relay.url);
    const bob = await registeredDevice(relay.url);
    const carol = newDevice();
    for (const owner of [alice, bob])
      await owner.client.request({
        type: 'keys.publish',
        keys: publishedKeysFor(owner.device, 25),
      });
    const tokens = [alice.token, bob.token];
    let dbFiles: Buffer[] = [];
    let envelopeRows: { recipient: string; row: string }[] = [];
    try {
      // Each side sends on anonymous connections, as clients do, fetching a bundle first.
      const senders = await Promise.all([0, 1, 2].map(() => connectAnonymous(relay.url)));
      for (const [sender, to] of [
        [senders[0]!, bob],
        [senders[1]!, alice],
        [senders[2]!, bob],
        [senders[2]!, alice],
      ] as const) {
        await sender.request({
          type: 'keys.fetch',
          accountId: to.device.accountId,
          deviceId: 1,
          token: to.token,
        });
        for (let i = 0; i < 5; i++) await sendOk(sender, to.device, to.token, randomBytes(160));
      }
      // Bob acks what he got; Alice leaves hers queued.
      const received = await bob.client.envelopes(10);
      await bob.client.request({ type: 'ack', envelopeIds: received.map((e) => e.id) });
      await alice.client.envelopes(10);
      await alice.client.request({ type: 'ping' });

      // While the relay runs, so the WAL holds the recent writes.
      const names = readdirSync(dataDir);
      expect(names).toContain('relay.db-wal');
      // Every file, blobs/ included (docs/relay-operations.md#blobs).
      dbFiles = readdirSync(dataDir, { recursive: true, encoding: 'utf8' })
        .map((name) => join(dataDir, name))
        .filter((path) => statSync(path).isFile())
        .map((path) => readFileSync(path));
      const db = new Database(join(dataDir, 'relay.db'));
      const schema = db.prepare('SELECT group_concat(sql) AS text FROM sqlite_master').get() as {
        text: string;
      };
      expect(schema.text).not.toMatch(/sender|"from"|\bfrom_/i);
      const rows: Record<string, unknown>[] = db.prepare('SELECT * FROM envelopes').all();
      envelopeRows = rows.map((row) => ({
        recipient: String(row['recipient']),
        row: JSON.stringify(row, (_key, value: unknown) =>
          value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value,
        ),
      }));
      db.close();
      await Promise.all([...senders, alice.client, bob.client].map((client) => client.close()));
    } finally {
      expect(await relay.stop()).toBe(0);
    }

    // Alice's ten envelopes are still queued; none names anyone but its recipient.
    expect(envelopeRows).toHaveLength(10);
    for (const { recipient, row } of envelopeRows) {
      expect(recipient).toBe(alice.device.accountId);
      // Blobs are hex in `row`, so the bare-hex form also covers the raw bytes.
      for (const other of [bob.device, carol]) {
        expect(row).not.toContain(other.accountId);
        expect(row).not.toContain(other.accountId.replace(/-/g, ''));
      }
    }
    // Carol only ever sent: no form of her id exists anywhere the relay writes.
    for (const file of dbFiles)
      for (const form of forms(carol)) expect(file.includes(form)).toBe(false);
    // The log names nobody, and no token.
    const log = Buffer.from(relay.output());
    expect(relay.output()).toContain('"event":"conn.ready"');
    for (const device of [alice.device, bob.device, carol])
      for (const form of forms(device)) expect(log.includes(form)).toBe(false);
    for (const token of tokens) {
      expect(log.includes(Buffer.from(token))).toBe(false);
      expect(dbFiles.some((file) => file.includes(Buffer.from(fromBase64(token))))).toBe(false);
    }
  });
});
