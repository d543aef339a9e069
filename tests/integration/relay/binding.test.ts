import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  connectAnonymous,
  connectAs,
  RelayTestClient,
  registeredDevice,
  relayDataDir,
} from '../../support/relay-client.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { sendOk } from './fixtures.ts';

/**
 * A contact's "relay" that is really a forwarder to the victim's own relay:
 * the attack the review ran against protocol 1. It passes every frame through
 * and, when `disguise` is set, shows the relay id of the relay the victim
 * thinks it is talking to.
 */
async function forwardingProxy(upstream: string, disguise: string | undefined) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (client) => {
    const relay = new WebSocket(upstream);
    const pending: string[] = [];
    relay.on('open', () => pending.splice(0).forEach((text) => relay.send(text)));
    relay.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const frame = JSON.parse(text) as Record<string, unknown>;
      client.send(disguise && frame['type'] === 'challenge' ? JSON.stringify({ ...frame, relayId: disguise }) : text);
    });
    client.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (relay.readyState === WebSocket.OPEN) relay.send(text);
      else pending.push(text);
    });
    relay.on('close', (code) => client.close(code === 1005 || code === 1006 ? 1000 : code));
    client.on('close', () => relay.close());
    relay.on('error', () => client.terminate());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v2`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a login is bound to the relay it was made for', () => {
  let home: RelayProcess;
  let contactsRelay: RelayProcess;
  beforeAll(async () => {
    [home, contactsRelay] = await Promise.all([
      startRelayProcess(relayDataDir()),
      startRelayProcess(relayDataDir()),
    ]);
  });
  afterAll(async () => {
    expect(await home.stop()).toBe(0);
    expect(await contactsRelay.stop()).toBe(0);
  });

  it("a signature made for the contact's relay, forwarded to the victim's own relay, is AUTH_FAILED and reads nothing", async () => {
    const victim = await registeredDevice(home.url);
    await victim.client.close();
    // A third person's message waits for the victim at home.
    const third = await connectAnonymous(home.url);
    const waiting = await sendOk(third, victim.device, victim.token, randomBytes(64));

    const proxy = await forwardingProxy(home.url, contactsRelay.relayId);
    const viaProxy = await RelayTestClient.connect(proxy.url);
    // The victim's client sees the relay id it expects from its contact's relay and signs for it.
    expect(viaProxy.relayId).toBe(contactsRelay.relayId);
    viaProxy.sendAuth(victim.device);
    expect(await viaProxy.next('error')).toMatchObject({ code: 'RELAY_ERR_AUTH_FAILED' });
    expect((await viaProxy.closed).code).toBe(4001);
    expect(viaProxy.history.some((frame) => frame.type === 'envelopes' || frame.type === 'ready')).toBe(false);

    // The message is still there for the victim, on the victim's own connection.
    const { client, ready } = await connectAs(home.url, victim.device);
    expect(ready.queued).toBe(1);
    expect((await client.envelopes(1)).map((e) => e.id)).toEqual([waiting]);
    await Promise.all([client.close(), third.close(), proxy.close()]);
  });

  it('the same forwarder without the disguise does log in (so the refusal above is the relay id, not the proxy)', async () => {
    const device = await registeredDevice(home.url);
    await device.client.close();
    const proxy = await forwardingProxy(home.url, undefined);
    const viaProxy = await RelayTestClient.connect(proxy.url);
    // A real client stops here: home's id is not the one pinned for the contact's relay.
    expect(viaProxy.relayId).toBe(home.relayId);
    expect(await viaProxy.authenticate(device.device)).toMatchObject({ type: 'ready' });
    await Promise.all([viaProxy.close(), proxy.close()]);
  });
});
