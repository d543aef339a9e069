import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayDataDir } from '../../support/relay-client.ts';
import { opsPortOf, type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// Hostile input to the operations port (/healthz, /metrics): other methods,
// long request targets, garbage, slow clients that never finish their headers.
// Raw sockets, so the test sends exactly the bytes a hostile client would.

let relay: RelayProcess;
let ops = 0;
beforeAll(async () => {
  // No --ops-host: the default binding is under test too.
  relay = await startRelayProcess(relayDataDir(), { args: ['--ops-port', '0'] });
  ops = opsPortOf(relay);
});
afterAll(async () => {
  expect(await relay.stop()).toBe(0);
});

/** Opens a raw socket to the ops port; `reply()` is everything received until the server closes it. */
async function raw(): Promise<{ socket: Socket; reply: () => Promise<string> }> {
  const socket = connect(ops, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(text)));
  return { socket, reply: () => closed };
}

/** Sends `bytes` on a fresh socket and returns what the server answered before closing. */
async function exchange(bytes: string): Promise<string> {
  const { socket, reply } = await raw();
  socket.write(bytes);
  return await reply();
}

const statusOf = (reply: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);

const healthy = async () => (await fetch(`http://127.0.0.1:${ops}/healthz`)).status;

describe('the operations port under hostile input', () => {
  it('is bound to loopback only by default', () => {
    // /proc/net/tcp{,6}: local address:port of listening sockets (state 0A), hex.
    const listening = ['tcp', 'tcp6'].flatMap((file) =>
      readFileSync(`/proc/net/${file}`, 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        .filter((cols) => cols[3] === '0A')
        .map((cols) => cols[1]!)
        .filter((local) => Number.parseInt(local.split(':')[1]!, 16) === ops),
    );
    expect(listening).toEqual(['0100007F:' + ops.toString(16).toUpperCase().padStart(4, '0')]);
  });

  it('every method but GET gets 405 Allow: GET and the socket is closed, body unread', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'HEAD']) {
      const reply = await exchange(
        `${method} /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npartial body`,
      );
      expect(statusOf(reply), method).toBe(405);
      expect(reply.toLowerCase()).toContain('allow: get');
    }
    expect(await healthy()).toBe(200);
  });

  it('a long request target is refused (414, or 431 past the header cap) and the port keeps serving', async () => {
    expect(
      statusOf(await exchange(`GET /healthz?${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\n\r\n`)),
    ).toBe(414);
    expect(
      statusOf(await exchange(`GET /${'b'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)),
    ).toBe(431);
    expect(
      statusOf(await exchange(`GET /metrics HTTP/1.1\r\n${'X-A: b\r\n'.repeat(2_000)}\r\n`)),
    ).toBe(431);
    expect(await healthy()).toBe(200);
  });

  it('garbage instead of HTTP gets 400 and a closed socket', async () => {
    expect(
      statusOf(await exchange('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n')),
    ).toBe(400);
    expect(statusOf(await exchange('GET /healthz HTTP/9.9\r\n\r\n'))).toBeGreaterThanOrEqual(400);
    expect(await healthy()).toBe(200);
  });

  it('slow clients that never finish their headers are cut, and probes are answered meanwhile', async () => {
    const slow = await Promise.all(Array.from({ length: 20 }, () => raw()));
    const started = Date.now();
    for (const { socket } of slow) socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    // Trickle a header byte now and then: a slowloris keeps the socket busy, never complete.
    const trickle = setInterval(() => slow.forEach(({ socket }) => socket.write('X')), 500);
    try {
      expect(await healthy()).toBe(200);
      const replies = await Promise.all(slow.map(({ reply }) => reply()));
      // Cut by the server (5 s header deadline, checked every second), not after Node's 60 s default.
      expect(Date.now() - started).toBeLessThan(30_000);
      for (const reply of replies) expect(reply === '' || statusOf(reply) === 408).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(await healthy()).toBe(200);
  });
});
