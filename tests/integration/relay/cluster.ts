import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { type WireEnvelope } from '../../../shared/relay/protocol.ts';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import {
  connectAnonymous,
  connectAs,
  relayDataDir,
  type RelayTestClient,
  type TestDevice,
} from '../../support/relay-client.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';
import { submission } from './fixtures.ts';

// Several relay nodes over one PostgreSQL database, and the two ends of a
// numbered stream through them: what the cross-node tests and the bench share.
// Not a test file itself.

/** Budgets wide enough that a 2,000-message stream from one sender is never refused. */
export const STREAM_ARGS: readonly string[] = [
  '--budget',
  'destination-messages=1000000/100000',
  '--budget',
  'connection-sends=1000000/100000',
  '--budget',
  'connection-bytes=10000000000/1000000000',
  '--max-frames-per-second',
  '100000',
];

/** Starts `count` relay nodes on the database the caller's useRelayStore hook names. */
export async function startNodes(count: number): Promise<RelayProcess[]> {
  return await Promise.all(
    Array.from({ length: count }, () => startRelayProcess(relayDataDir(), { args: STREAM_ARGS })),
  );
}

/** A body carrying its stream position in the first 4 bytes. */
export function numbered(index: number, bytes = 64): Uint8Array {
  const body = randomBytes(bytes);
  body.writeUInt32BE(index, 0);
  return body;
}

/** The stream position a numbered body carries. */
export function positionOf(envelope: WireEnvelope): number {
  return Buffer.from(fromBase64(envelope.body)).readUInt32BE(0);
}

/** Sends messages `from`…`to - 1` in batches of 100, each batch retried on another node until stored. */
export async function sendStream(
  urls: () => readonly string[],
  to: TestDevice,
  token: string,
  from: number,
  until: number,
  options: WebSocket.ClientOptions = {},
): Promise<void> {
  let sender: RelayTestClient | undefined;
  let attempt = 0;
  for (let start = from; start < until;) {
    const end = Math.min(until, start + 100);
    const envelopes = Array.from({ length: end - start }, (_, i) =>
      submission(
        to,
        token,
        numbered(start + i),
        `00000000-0000-4000-8000-${String(start + i).padStart(12, '0')}`,
      ),
    );
    try {
      sender ??= await connectAnonymous(urls()[attempt % urls().length]!, options);
      const answer = await sender.request({ type: 'send.batch', envelopes });
      if (answer.type !== 'sent' || answer.results.some((r) => !('envelopeId' in r)))
        throw new Error(`batch refused: ${JSON.stringify(answer).slice(0, 200)}`);
      start = end;
    } catch (error) {
      // The node (or its database) went away: the same client message ids,
      // resent on the next node, store nothing twice. A short pause between
      // attempts, as a client's retry would wait; about 30 s in all.
      attempt += 1;
      if (attempt > 300) throw error;
      await sender?.close().catch(() => undefined);
      sender = undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await sender?.close();
}

/** What a receiver saw: every push in order (duplicates included). */
export interface Received {
  readonly positions: number[];
  readonly ids: string[];
  /** Logins it took (1: the first connection got everything, no timeout or failover). */
  connections: number;
}

/**
 * Receives (and acks each frame) until `count` distinct positions (messages) arrived,
 * reconnecting to the next node in `urls()` whenever the connection dies.
 */
export async function receiveStream(
  urls: () => readonly string[],
  device: TestDevice,
  count: number,
  received: Received = { positions: [], ids: [], connections: 0 },
  onFrame: (received: Received) => Promise<void> | void = () => undefined,
  options: WebSocket.ClientOptions = {},
  onClose: (code: number) => void = () => undefined,
): Promise<Received> {
  // Done once every position arrived: a batch whose answer a kill lost is
  // resubmitted and, if its envelopes were already acked, stored anew under
  // new ids, so distinct ids can reach `count` while positions are missing.
  const seen = new Set<number>(received.positions);
  let node = 0;
  while (seen.size < count) {
    let client: RelayTestClient;
    try {
      client = (await connectAs(urls()[node % urls().length]!, device, options)).client;
      received.connections += 1;
      void client.closed.then(({ code }) => onClose(code));
    } catch {
      node += 1;
      continue;
    }
    try {
      while (seen.size < count) {
        const { envelopes } = await client.next('envelopes');
        for (const envelope of envelopes) {
          received.positions.push(positionOf(envelope));
          received.ids.push(envelope.id);
          seen.add(positionOf(envelope));
        }
        await client.request({ type: 'ack', envelopeIds: envelopes.map((e) => e.id) });
        await onFrame(received);
      }
      await client.close();
    } catch {
      node += 1;
    }
  }
  return received;
}

/** The stream with duplicates dropped (first sighting kept), as a client's dedupe would. */
export function deduplicated(received: Received): number[] {
  const seen = new Set<string>();
  return received.positions.filter((_, i) => {
    const id = received.ids[i]!;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
