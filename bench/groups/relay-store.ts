import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import Database from 'better-sqlite3-multiple-ciphers';
import { toBase64 } from '../../shared/protocol/encoding.ts';
import { MultiSender, type MultiTarget } from '../../tests/support/multi-sealing.ts';
import { publish } from '../sync/multi-send.ts';
import { RawRelayClient } from '../sync/raw-client.ts';
import { withRelay } from '../sync/relay-child.ts';

// One group message to `recipients` accounts of one relay, stored atomically
// (one send.multi frame: one copy per mailbox in one transaction): the time
// from the frame out to the relay's answer, and what it added on disk.

/** What the relay did with one multi-recipient send. */
export interface RelayStore {
  readonly recipients: number;
  readonly answeredMs: number;
  readonly frameBytes: number;
  /** Growth of the relay database (pages, WAL included), and the copies and body bytes it now holds. */
  readonly diskBytes: number;
  readonly copies: number;
  readonly bodyBytes: number;
}

/** The relay database as a reader sees it now (WAL included): pages in bytes, stored copies and their body bytes. */
function relayFootprint(dataDir: string): { bytes: number; copies: number; bodyBytes: number } {
  const db = new Database(join(dataDir, 'relay.db'), { readonly: true, fileMustExist: true });
  try {
    const pages = Number(db.pragma('page_count', { simple: true }));
    const size = Number(db.pragma('page_size', { simple: true }));
    const row = db
      .prepare(
        'SELECT count(*) AS copies, coalesce(sum(length(body)), 0) AS bodyBytes FROM envelopes',
      )
      .get() as { copies: number; bodyBytes: number };
    return { bytes: pages * size, ...row };
  } finally {
    db.close();
  }
}

/** Registers `recipients` accounts (offline afterwards), then times one send.multi to all of them. */
export function relayMultiStore(
  dataDir: string,
  recipients: number,
  innerBytes: number,
): Promise<RelayStore> {
  return withRelay(async (url) => {
    const targets: (MultiTarget & { token: string })[] = [];
    for (let i = 0; i < recipients; i++) {
      const member = await RawRelayClient.connect(url, 'account');
      await publish(member);
      targets.push({
        accountId: member.accountId,
        deviceId: 1,
        registrationId: 1234,
        identity: member.identity,
        token: member.token,
      });
      await member.close();
    }
    const sender = new MultiSender(IdentityKeyPair.generate(), randomUUID());
    for (const target of targets) await sender.meet(target);
    const { body } = await sender.seal(targets, new Uint8Array(randomBytes(innerBytes)));
    const frame = {
      type: 'send.multi' as const,
      clientMessageId: randomUUID(),
      body: toBase64(body),
      recipients: targets.map((t) => ({ accountId: t.accountId, token: t.token })),
    };
    const client = await RawRelayClient.connect(url, 'anonymous');
    try {
      const before = relayFootprint(dataDir);
      const started = performance.now();
      const answer = await client.ask(frame);
      const answeredMs = performance.now() - started;
      if (answer.type === 'error') throw new Error(`send.multi refused: ${answer.code}`);
      const after = relayFootprint(dataDir);
      return {
        recipients,
        answeredMs,
        frameBytes: JSON.stringify({ ...frame, id: 1 }).length,
        diskBytes: after.bytes - before.bytes,
        copies: after.copies - before.copies,
        bodyBytes: after.bodyBytes - before.bodyBytes,
      };
    } finally {
      await client.close();
    }
  }, dataDir);
}
