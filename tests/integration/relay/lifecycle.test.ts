import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  connectAnonymous,
  connectAs,
  RelayTestClient,
  registeredDevice,
  relayDataDir,
} from '../../support/relay-client.ts';
import { holdPort, runRelayCli, startRelayProcess } from '../../support/relay-process.ts';
import { publishedKeysFor, sendFrame, sendOk } from './fixtures.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the sotto-relay process', () => {
  it('restarted on its port while another process holds it for a moment, it starts once the port is free (the harness retries EADDRINUSE)', async () => {
    const data = relayDataDir();
    const first = await startRelayProcess(data);
    const port = first.port;
    expect(await first.stop()).toBe(0);
    const holder = await holdPort(port);
    // Released only once a start has failed on it: the retry is what is under test.
    let taken = 0;
    const again = await startRelayProcess(data, {
      port,
      onPortTaken: async () => {
        taken += 1;
        if (taken === 1) await holder.close();
      },
    });
    try {
      expect(taken).toBe(1);
      expect(again.port).toBe(port);
      expect(again.relayId).toBe(first.relayId);
      const bob = await registeredDevice(again.url);
      await bob.client.close();
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const { code, stdout } = await runRelayCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: sotto-relay --data DIR/);
    for (const flag of [
      '--port',
      '--host',
      '--ttl-days',
      '--mailbox-quota',
      '--max-storage-mb',
      '--tls-cert',
      '--tls-key',
      '--trust-proxy',
      '--max-connections-per-address',
      '--budget',
      'destination-bytes=134217728/2048',
    ])
      expect(stdout).toContain(flag);
  });

  it('a missing --data, an invalid number, an unknown budget or a lone --tls-cert exits 2 with the usage on stderr', async () => {
    const missing = await runRelayCli(['--port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Usage: sotto-relay');
    for (const args of [
      ['--port', 'eighty'],
      ['--budget', 'everything=1/1'],
      ['--budget', 'address-sends=lots'],
      ['--tls-cert', '/nonexistent.pem'],
    ]) {
      const invalid = await runRelayCli([...args, '--data', relayDataDir()]);
      expect(invalid.code).toBe(2);
      expect(invalid.stdout).toBe('');
    }
  });

  it('a protocol-1 data directory is refused with exit 2 and a message to move it aside; the file is left untouched', async () => {
    const dataDir = relayDataDir();
    const file = join(dataDir, 'relay.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE envelopes (seq INTEGER PRIMARY KEY, sender TEXT NOT NULL, body BLOB NOT NULL);
              INSERT INTO envelopes (sender, body) VALUES ('abcdefghijklmnopqrstuvwxyz234567', x'00');
              PRAGMA user_version = 1;`);
    old.close();
    const before = readFileSync(file);
    const { code, stdout, stderr } = await runRelayCli(['--port', '0', '--data', dataDir]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('protocol-1 relay');
    expect(stderr).toContain('Move the data directory aside');
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('the data directory is 0700 and relay.db, its WAL and SHM 0600, even when they existed with wider modes', async () => {
    const dataDir = relayDataDir();
    mkdirSync(dataDir, { recursive: true, mode: 0o755 });
    const first = await startRelayProcess(dataDir);
    const bob = await registeredDevice(first.url);
    const sender = await connectAnonymous(first.url);
    await sendOk(sender, bob.device, bob.token);
    const files = readdirSync(dataDir);
    expect(files).toEqual(
      expect.arrayContaining(['relay.db', 'relay.db-wal', 'relay.db-shm', 'blobs']),
    );
    expect(mode(dataDir)).toBe(0o700);
    // blobs/ holds attachment blobs (docs/relay-operations.md#blobs), 0700 like its parent.
    for (const name of files)
      expect(mode(join(dataDir, name))).toBe(name === 'blobs' ? 0o700 : 0o600);
    await Promise.all([bob.client.close(), sender.close()]);
    expect(await first.stop()).toBe(0);

    // An operator (or a backup restore) widened everything: the next start narrows it again.
    chmodSync(dataDir, 0o755);
    for (const name of readdirSync(dataDir)) chmodSync(join(dataDir, name), 0o644);
    writeFileSync(join(dataDir, 'README'), "not the relay's");
    const second = await startRelayProcess(dataDir);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'relay.db'))).toBe(0o600);
    expect(mode(join(dataDir, 'blobs'))).toBe(0o700);
    for (const name of readdirSync(dataDir).filter((n) => n.startsWith('relay.db')))
      expect(mode(join(dataDir, name))).toBe(0o600);
    expect(await second.stop()).toBe(0);
  });

  it('the relay id, queued envelopes, idempotency, tokens and keys survive a SIGTERM restart on the same data directory', async () => {
    const dataDir = relayDataDir();
    const body = randomBytes(500);
    const clientMessageId = randomUUID();

    const first = await startRelayProcess(dataDir);
    const bob = await registeredDevice(first.url);
    const keys = publishedKeysFor(bob.device, 30);
    await bob.client.request({ type: 'keys.publish', keys });
    await bob.client.close();
    const senderBefore = await connectAnonymous(first.url);
    const sent = await senderBefore.request(
      sendFrame(bob.device, bob.token, body, clientMessageId),
    );
    expect(sent).toMatchObject({ type: 'ok' });
    expect(await first.stop()).toBe(0);
    expect((await senderBefore.closed).code).toBe(1001);

    const second = await startRelayProcess(dataDir);
    try {
      expect(second.relayId).toBe(first.relayId);
      const { client: recipient, ready } = await connectAs(second.url, bob.device);
      expect(ready.queued).toBe(1);
      const [envelope] = await recipient.envelopes(1);
      expect(envelope).toMatchObject({
        id: sent.type === 'ok' ? sent.envelopeId : '',
        body: toBase64(body),
      });
      const sender = await connectAnonymous(second.url);
      expect(await sender.request(sendFrame(bob.device, bob.token, body, clientMessageId))).toEqual(
        { ...sent, id: 1 },
      );
      expect(
        await sender.request({
          type: 'keys.fetch',
          accountId: bob.device.accountId,
          deviceId: 1,
          token: bob.token,
        }),
      ).toMatchObject({
        bundle: { signedPreKey: keys.signedPreKey, preKey: keys.oneTimePreKeys[0] },
      });
      await Promise.all([recipient.close(), sender.close()]);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('two data directories have different relay ids', async () => {
    const [a, b] = [
      await startRelayProcess(relayDataDir()),
      await startRelayProcess(relayDataDir()),
    ];
    expect(a.relayId).not.toBe(b.relayId);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });

  it('envelopes left unacked longer than the TTL are deleted (--ttl-seconds)', async () => {
    const relay = await startRelayProcess(relayDataDir(), { args: ['--ttl-seconds', '1'] });
    try {
      const bob = await registeredDevice(relay.url);
      await bob.client.close();
      const sender = await connectAnonymous(relay.url);
      await sendOk(sender, bob.device, bob.token);
      // Expiry is asynchronous: look until the mailbox is empty (a relay without expiry never gets there).
      let queued = -1;
      for (let attempt = 0; attempt < 100 && queued !== 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
        const { client, ready } = await connectAs(relay.url, bob.device);
        queued = ready.queued ?? -1;
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
    try {
      const bob = await registeredDevice(relay.url);
      const sender = await connectAnonymous(relay.url);
      await sendOk(sender, bob.device, bob.token, acked);
      await sendOk(sender, bob.device, bob.token, queued);
      const [first] = await bob.client.envelopes(2);
      await bob.client.request({ type: 'ack', envelopeIds: [first!.id] });
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
      await Promise.all([bob.client.close(), sender.close()]);
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
    const files = readdirSync(dataDir, { recursive: true, encoding: 'utf8' })
      .map((name) => join(dataDir, name))
      .filter((path) => statSync(path).isFile())
      .map((path) => readFileSync(path));
    expect(files.some((file) => file.includes(acked))).toBe(false);
    expect(files.some((file) => file.includes(toBase64(queued)))).toBe(false);
  });
});
