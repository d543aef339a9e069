import { randomBytes } from 'node:crypto';
import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { fanout } from './fanout.ts';
import { groupReceive } from './receive.ts';
import { relayMultiStore } from './relay-store.ts';

const SECTION = 'groups';

/** Shape of the groups benchmark (BENCH_ONLY=groups). */
export const GROUPS = {
  sizes: [10, 100, 1000],
  rounds: 5,
  plaintextBytes: 320,
  receiveMessages: 2000,
  receiveBatch: 100,
  relayRecipients: 1000,
} as const;

/** Group sends vs pairwise at 10/100/1,000 members, group receive vs raw groupDecrypt, one 1,000-recipient relay store. */
export async function groupsSection(): Promise<Metric[]> {
  const { sizes, rounds, plaintextBytes, receiveMessages, receiveBatch, relayRecipients } = GROUPS;
  const metrics: Metric[] = [];
  console.log(
    `\n[groups] one ${plaintextBytes}-byte message to ${sizes.join(' / ')} members: sender key + one multi-recipient seal vs pairwise encrypt + seal each; median of ${rounds} rounds, alternating`,
  );
  for (const members of sizes) {
    const sender = await fanout(members);
    const group: number[] = [];
    const pairwise: number[] = [];
    let groupBytes = 0;
    let pairwiseBytes = 0;
    const plaintext = () => new Uint8Array(randomBytes(plaintextBytes));
    await sender.group(plaintext()); // warm-up
    await sender.pairwise(plaintext());
    for (let round = 0; round < rounds; round++) {
      const variants = [
        async () => {
          const r = await sender.group(plaintext());
          group.push(r.ms);
          groupBytes = r.bytes;
        },
        async () => {
          const r = await sender.pairwise(plaintext());
          pairwise.push(r.ms);
          pairwiseBytes = r.bytes;
        },
      ];
      for (let i = 0; i < variants.length; i++) await variants[(round + i) % variants.length]!();
    }
    const pairwiseMs = percentile(pairwise, 50);
    const groupMs = percentile(group, 50);
    console.log(
      `  ${members} members: group ${groupMs.toFixed(2)} ms (${groupBytes} bytes), pairwise ${pairwiseMs.toFixed(2)} ms (${pairwiseBytes} bytes)`,
    );
    metrics.push(
      {
        section: SECTION,
        name: `${members} members: pairwise encrypt + seal`,
        value: pairwiseMs,
        unit: 'ms',
        note: `${pairwiseBytes.toLocaleString('en-US')} bytes to hand over`,
      },
      {
        section: SECTION,
        name: `${members} members: sender key + one seal`,
        value: groupMs,
        unit: 'ms',
        baseline: { name: 'pairwise', value: pairwiseMs },
        ...(members === 100 ? { target: { op: '<=' as const, value: 0.1 * pairwiseMs } } : {}),
        note: `${groupBytes.toLocaleString('en-US')} bytes in one send.multi${members === 100 ? '; target ≤ 0.1× pairwise' : ''}`,
      },
    );
  }

  console.log(
    `\n[groups] receiving ${receiveMessages} group messages (batches of ${receiveBatch}) through processEnvelopes vs raw groupDecrypt`,
  );
  const received = await groupReceive(receiveMessages, receiveBatch);
  metrics.push(
    {
      section: SECTION,
      name: 'raw groupDecrypt',
      value: received.raw.perSecond,
      unit: 'msg/s',
      note: 'in-memory sender-key store',
    },
    {
      section: SECTION,
      name: 'raw unseal (SSv2 copy) + groupDecrypt',
      value: received.rawUnsealed.perSecond,
      unit: 'msg/s',
      baseline: { name: 'raw groupDecrypt', value: received.raw.perSecond },
      note: 'in-memory stores, no certificate checks, no storage',
    },
    {
      section: SECTION,
      name: 'group receive pipeline',
      value: received.pipeline.perSecond,
      unit: 'msg/s',
      baseline: { name: 'raw groupDecrypt', value: received.raw.perSecond },
      target: { op: '>=', value: 0.7 * received.raw.perSecond },
      note: `unseal (SSv2 copy), certificate + membership checks, groupDecrypt, commit with the chain; target ≥ 0.7× raw; ${(received.pipeline.perSecond / received.rawUnsealed.perSecond).toFixed(2)}× of raw unseal + groupDecrypt`,
    },
  );

  console.log(
    `\n[groups] relay child: one send.multi to ${relayRecipients} registered (offline) accounts, stored atomically`,
  );
  const stored = await relayMultiStore(tempDir(), relayRecipients, plaintextBytes);
  metrics.push(
    {
      section: SECTION,
      name: `relay: send.multi to ${relayRecipients}, answered (stored)`,
      value: stored.answeredMs,
      unit: 'ms',
      note: `frame ${stored.frameBytes.toLocaleString('en-US')} bytes`,
    },
    {
      section: SECTION,
      name: `relay: bytes on disk for ${relayRecipients} copies`,
      value: stored.diskBytes,
      unit: 'bytes',
      note: `growth of relay.db as a reader sees it (WAL included) once answered: ${stored.copies} copies stored, ${stored.bodyBytes.toLocaleString('en-US')} bytes of bodies`,
    },
  );
  return metrics;
}
