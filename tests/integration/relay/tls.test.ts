import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectAnonymous,
  RelayTestClient,
  registeredDevice,
  relayDataDir,
} from '../../support/relay-client.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { selfSigned } from '../../support/certificates.ts';
import { sendOk } from './fixtures.ts';

describe('the relay serves wss:// itself', () => {
  const dir = relayDataDir();
  let first: ReturnType<typeof selfSigned>;
  let relay: RelayProcess;
  beforeAll(async () => {
    first = selfSigned(dir, 'first');
    relay = await startRelayProcess(join(dir, 'data'), {
      args: ['--tls-cert', first.cert, '--tls-key', first.key],
    });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('prints a wss:// URL and carries a message end to end for a client that trusts the certificate', async () => {
    expect(relay.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v2$/);
    const trust = { ca: first.pem };
    const bob = await registeredDevice(relay.url, undefined, trust);
    const sender = await connectAnonymous(relay.url, trust);
    const envelopeId = await sendOk(sender, bob.device, bob.token, randomBytes(100));
    expect((await bob.client.envelopes(1)).map((e) => e.id)).toEqual([envelopeId]);
    await Promise.all([bob.client.close(), sender.close()]);
  });

  it('a client that does not trust the certificate is refused by its own TLS check; plain ws:// gets nothing', async () => {
    await expect(RelayTestClient.connect(relay.url, { rejectUnauthorized: true })).rejects.toThrow(
      /self[- ]signed|certificate/i,
    );
    await expect(RelayTestClient.connect(relay.url.replace('wss://', 'ws://'))).rejects.toThrow();
  });

  it('SIGHUP loads a renewed certificate for new connections; open ones keep working', async () => {
    const { client: open } = await registeredDevice(relay.url, undefined, { ca: first.pem });
    const renewed = selfSigned(dir, 'renewed');
    renameSync(renewed.cert, first.cert);
    renameSync(renewed.key, first.key);
    process.kill(relay.pid, 'SIGHUP');
    // Progress, not a sleep: the reload is done once a client that trusts only the new certificate gets in.
    let client: RelayTestClient | undefined;
    for (let attempt = 0; attempt < 100 && client === undefined; attempt++) {
      client = await RelayTestClient.connect(relay.url, { ca: renewed.pem }).catch(() => undefined);
      if (client === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(client).toBeDefined();
    await expect(RelayTestClient.connect(relay.url, { ca: first.pem })).rejects.toThrow();
    expect(await open.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await Promise.all([client?.close(), open.close()]);
  });
});
