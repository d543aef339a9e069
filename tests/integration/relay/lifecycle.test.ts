import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  connectAs,
  newDevice,
  RelayTestClient,
  relayDataDir,
} from '../../support/relay-client.ts';
import { runRelayCli, startRelayProcess } from '../../support/relay-process.ts';
import { publishedKeysFor, sendFrame } from './fixtures.ts';

describe('the sotto-relay process', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    const { code, stdout } = await runRelayCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: sotto-relay --data DIR/);
    for (const flag of ['--port', '--host', '--ttl-days', '--mailbox-quota', '--ttl-seconds'])
      expect(stdout).toContain(flag);
  });

  it('a missing --data or an invalid number exits 2 with the usage on stderr', async () => {
    const missing = await runRelayCli(['--port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Usage: sotto-relay');
    const invalid = await runRelayCli(['--port', 'eighty', '--data', relayDataDir()]);
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toBe('');
  });

  it('queued envelopes, idempotency and keys survive a SIGTERM restart on the same data directory', async () => {
    const dataDir = relayDataDir();
    const [alice, bob] = [newDevice(), newDevice()];
    const body = randomBytes(500);
    const clientMessageId = randomUUID();
    const keys = publishedKeysFor(bob, 30);

    const first = await startRelayProcess(dataDir);
    const { client: bobBefore } = await connectAs(first.url, bob);
    await bobBefore.request({ type: 'keys.publish', keys });
    await bobBefore.close();
    const { client: aliceBefore } = await connectAs(first.url, alice);
    const sent = await aliceBefore.request(sendFrame(bob, body, clientMessageId));
    expect(sent).toMatchObject({ type: 'ok' });
    expect(await first.stop()).toBe(0);
    expect((await aliceBefore.closed).code).toBe(1001);

    const second = await startRelayProcess(dataDir);
    try {
      const { client: recipient, ready } = await connectAs(second.url, bob);
      expect(ready.queued).toBe(1);
      const [envelope] = await recipient.envelopes(1);
      expect(envelope).toMatchObject({
        id: sent.type === 'ok' ? sent.envelopeId : '',
        from: alice.accountId,
        body: toBase64(body),
      });
      const { client: sender } = await connectAs(second.url, alice);
      expect(await sender.request(sendFrame(bob, body, clientMessageId))).toEqual({
        ...sent,
        id: 1,
      });
      expect(await sender.request({ type: 'keys.fetch', accountId: bob.accountId })).toMatchObject({
        bundle: { signedPreKey: keys.signedPreKey, preKey: keys.oneTimePreKeys[0] },
      });
      await Promise.all([recipient.close(), sender.close()]);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('envelopes left unacked longer than the TTL are deleted (--ttl-seconds)', async () => {
    const relay = await startRelayProcess(relayDataDir(), { args: ['--ttl-seconds', '1'] });
    try {
      const [alice, bob] = [newDevice(), newDevice()];
      const { client: sender } = await connectAs(relay.url, alice);
      expect(await sender.request(sendFrame(bob, randomBytes(32)))).toMatchObject({ type: 'ok' });
      // Expiry is asynchronous: look until the mailbox is empty (a relay without expiry never gets there).
      let queued = -1;
      for (let attempt = 0; attempt < 100 && queued !== 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
        const { client, ready } = await connectAs(relay.url, bob);
        queued = ready.queued;
        await client.close();
      }
      expect(queued).toBe(0);
      await sender.close();
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('envelope content never reaches the relay output, bodies are stored as bytes, and acked bodies leave no trace', async () => {
    const dataDir = relayDataDir();
    const relay = await startRelayProcess(dataDir, { env: { SOTTO_RELAY_LOG: 'debug' } });
    const acked = Buffer.from(`sotto-marker-acked-${randomUUID()}`);
    const queued = Buffer.from(`sotto-marker-queued-${randomUUID()}`);
    const markers = [acked, queued].flatMap((bytes) => [bytes.toString('utf8'), toBase64(bytes)]);
    const [alice, bob] = [newDevice(), newDevice()];
    try {
      const { client: recipient } = await connectAs(relay.url, bob);
      const { client: sender } = await connectAs(relay.url, alice);
      await sender.request(sendFrame(bob, acked));
      await sender.request(sendFrame(bob, queued));
      const [first] = await recipient.envelopes(2);
      await recipient.request({ type: 'ack', envelopeIds: [first!.id] });
      // Refused frames carrying the marker must not be echoed or logged either.
      const mallory = await RelayTestClient.connect(relay.url);
      mallory.socket.send(`{"type":"send","body":"${markers[1]}", ${markers[0]}`);
      await mallory.closed;
      const nosy = await RelayTestClient.connect(relay.url);
      nosy.sendJson({ type: markers[0], body: markers[1] });
      expect(await nosy.next('error')).toEqual({
        type: 'error',
        code: 'RELAY_ERR_UNKNOWN_TYPE',
        message: 'unknown frame type',
      });
      await Promise.all([recipient.close(), sender.close()]);
    } finally {
      expect(await relay.stop()).toBe(0);
    }

    const output = relay.output();
    expect(output).toContain('"event":"conn.ready"'); // logging was on
    for (const marker of markers) expect(output).not.toContain(marker);

    const db = new Database(join(dataDir, 'relay.db'));
    const rows = db.prepare('SELECT typeof(body) AS kind, body FROM envelopes').all();
    db.close();
    expect(rows).toEqual([{ kind: 'blob', body: queued }]);
    const files = readdirSync(dataDir).map((name) => readFileSync(join(dataDir, name)));
    expect(files.some((file) => file.includes(acked))).toBe(false);
    expect(files.some((file) => file.includes(toBase64(queued)))).toBe(false);
  });
});
