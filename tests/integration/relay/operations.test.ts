import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectAnonymous, registeredDevice, relayDataDir } from '../../support/relay-client.ts';
import {
  holdPort,
  opsPortOf,
  runRelayCli,
  startRelayProcess,
} from '../../support/relay-process.ts';
import { sendFrame, sendOk } from './fixtures.ts';

// The operations side of sotto-relay (docs/relay-operations.md): /healthz and
// /metrics on their own port, the drain on SIGTERM, a config file and
// SOTTO_RELAY_* variables.

const get = async (port: number, path: string, method = 'GET') => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, text: await response.text() };
};

/** One sample of the exposition text, or undefined. */
const sample = (text: string, name: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('relay operations port', () => {
  it('/metrics counts envelopes in, out and acked, connections, storage latency and budget refusals, and names nobody', async () => {
    const relay = await startRelayProcess(relayDataDir(), {
      args: ['--ops-port', '0', '--budget', 'destination-messages=2/0.001'],
    });
    const ops = opsPortOf(relay);
    try {
      expect(await get(ops, '/healthz')).toEqual({ status: 200, text: 'ok\n' });
      const bob = await registeredDevice(relay.url);
      const sender = await connectAnonymous(relay.url);
      const first = await sendOk(sender, bob.device, bob.token);
      await sendOk(sender, bob.device, bob.token);
      const refused = await sender.request(sendFrame(bob.device, bob.token, new Uint8Array(10)));
      expect(refused).toMatchObject({ code: 'RELAY_ERR_OVER_BUDGET' });
      const pushed = await bob.client.envelopes(2);
      await bob.client.request({ type: 'ack', envelopeIds: [first] });

      const { status, text } = await get(ops, '/metrics');
      expect(status).toBe(200);
      expect(sample(text, 'sotto_relay_connections')).toBe(2);
      expect(sample(text, 'sotto_relay_envelopes_in_total')).toBe(2);
      expect(sample(text, 'sotto_relay_envelopes_out_total')).toBe(2);
      expect(sample(text, 'sotto_relay_envelopes_acked_total')).toBe(1);
      expect(sample(text, 'sotto_relay_queue_depth')).toBe(1);
      expect(text).toContain('sotto_relay_budget_refusals_total{budget="destination"} 1');
      expect(text).toMatch(/sotto_relay_storage_seconds_count\{method="storeEnvelopes"\} [1-9]/);
      expect(text).toContain('# TYPE sotto_relay_storage_seconds histogram');
      // Content-free: no account id, token, envelope id or address.
      for (const secret of [
        bob.device.accountId,
        bob.token,
        ...pushed.map((e) => e.id),
        '127.0.0.1',
      ])
        expect(text).not.toContain(secret);
      for (const client of [sender, bob.client]) await client.close();
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('answers only GET /healthz and GET /metrics, and is not the client port', async () => {
    const relay = await startRelayProcess(relayDataDir(), { args: ['--ops-port', '0'] });
    const ops = opsPortOf(relay);
    try {
      expect((await get(ops, '/healthz', 'POST')).status).toBe(405);
      expect((await get(ops, '/v2')).status).toBe(404);
      expect((await get(ops, '/metrics/../healthz?x=1')).status).toBe(200);
      expect((await get(relay.port, '/metrics')).status).toBe(426);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('SIGTERM drains: /healthz turns 503 while clients stay served, then they are closed with 1001 and the node exits 0', async () => {
    const relay = await startRelayProcess(relayDataDir(), {
      args: ['--ops-port', '0', '--drain-seconds', '3'],
    });
    const ops = opsPortOf(relay);
    const bob = await registeredDevice(relay.url);
    const sender = await connectAnonymous(relay.url);
    const stopped = relay.stop();
    const deadline = Date.now() + 2_500;
    let health = await get(ops, '/healthz');
    while (health.status === 200 && Date.now() < deadline) health = await get(ops, '/healthz');
    expect(health).toEqual({ status: 503, text: 'draining\n' });
    // Still served during the drain: a send is stored and pushed.
    const id = await sendOk(sender, bob.device, bob.token);
    expect((await bob.client.envelopes(1))[0]?.id).toBe(id);
    expect((await bob.client.closed).code).toBe(1001);
    expect((await sender.closed).code).toBe(1001);
    expect(await stopped).toBe(0);
  });
});

describe('relay configuration', () => {
  it('reads a JSON config file, SOTTO_RELAY_* variables override it, and flags override both', async () => {
    const dir = relayDataDir();
    // The file names a port this test holds: a relay that took the file's
    // value would exit with EADDRINUSE. The environment's 0 (any free port) wins.
    const occupied = await holdPort();
    const config = join(dir, 'relay.json');
    writeFileSync(config, JSON.stringify({ 'ops-port': occupied.port, 'mailbox-quota': 1 }));
    const relay = await startRelayProcess(join(dir, 'data'), {
      args: ['--config', config, '--mailbox-quota', '2'],
      env: { SOTTO_RELAY_OPS_PORT: '0' },
    }).finally(() => occupied.close());
    try {
      const fromEnvironment = opsPortOf(relay);
      expect(fromEnvironment).not.toBe(occupied.port);
      expect((await get(fromEnvironment, '/healthz')).status).toBe(200);
      const bob = await registeredDevice(relay.url);
      const sender = await connectAnonymous(relay.url);
      await sendOk(sender, bob.device, bob.token);
      await sendOk(sender, bob.device, bob.token);
      expect(
        await sender.request(sendFrame(bob.device, bob.token, new Uint8Array(5))),
      ).toMatchObject({
        code: 'RELAY_ERR_MAILBOX_FULL',
      });
      for (const client of [sender, bob.client]) await client.close();
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('the sample config of deploy/ (relay.json) is accepted', async () => {
    const relay = await startRelayProcess(relayDataDir(), {
      args: ['--config', 'deploy/relay.json', '--ops-port', '0', '--drain-seconds', '0'],
    });
    const ops = opsPortOf(relay);
    try {
      expect((await get(ops, '/healthz')).status).toBe(200);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('a config file that is not JSON, or has a wrong value, is refused with exit 2 without quoting the file', async () => {
    const dir = relayDataDir();
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"database": "postgres://relay:hunter2@db/relay",');
    const notJson = await runRelayCli(['--config', broken]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('cannot be read as JSON');
    expect(notJson.stderr).not.toContain('hunter2');
    const wrong = join(dir, 'wrong.json');
    writeFileSync(
      wrong,
      JSON.stringify({ data: dir, port: 'eighty', database: 'mysql://x:hunter2@y' }),
    );
    const invalid = await runRelayCli(['--config', wrong]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).not.toContain('hunter2');
    for (const gather of ['101', '-1', 'soon']) {
      const refused = await runRelayCli(['--data', dir, '--store-gather-ms', gather]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('store-gather-ms');
    }
    const neither = await runRelayCli(['--port', '0']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give one store');
  });
});
