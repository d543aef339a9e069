import { randomBytes } from 'node:crypto';
import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { fanout, type Timed } from './fanout.ts';
import { productSender, type SendStages } from './product-send.ts';
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
    `\n[groups] one ${plaintextBytes}-byte message to ${sizes.join(' / ')} members: libsignal's sender key + one multi-recipient seal (in memory), Sotto's whole group send (SQLCipher, relay write excluded), and pairwise encrypt + seal each; median of ${rounds} rounds, alternating`,
  );
  for (const members of sizes) {
    const sender = await fanout(members);
    const product = await productSender(members);
    const group: Timed[] = [];
    const pairwise: Timed[] = [];
    const sotto: SendStages[] = [];
    const plaintext = () => new Uint8Array(randomBytes(plaintextBytes));
    await sender.group(plaintext()); // warm-up
    await sender.pairwise(plaintext());
    await product.send(0);
    for (let round = 0; round < rounds; round++) {
      const variants = [
        async () => group.push(await sender.group(plaintext())),
        async () => pairwise.push(await sender.pairwise(plaintext())),
        async () => sotto.push(await product.send(round + 1)),
      ];
      for (let i = 0; i < variants.length; i++) await variants[(round + i) % variants.length]!();
    }
    await product.close();
    const median = <T>(runs: readonly T[], pick: (t: T) => number) =>
      percentile(runs.map(pick), 50);
    const pairwiseMs = median(pairwise, (r) => r.ms);
    const pairwiseCpu = median(pairwise, (r) => r.cpuMs);
    const groupMs = median(group, (r) => r.ms);
    const groupCpu = median(group, (r) => r.cpuMs);
    const sottoMs = median(sotto, (r) => r.ms);
    const sottoCpu = median(sotto, (r) => r.cpuMs);
    const stages = `queue ${median(sotto, (r) => r.queue).toFixed(1)} ms, encrypt + commit ${median(sotto, (r) => r.encrypt).toFixed(1)} ms, seal + hand over ${median(sotto, (r) => r.send).toFixed(1)} ms`;
    const pairwiseBytes = pairwise[0]!.bytes;
    const groupBytes = group[0]!.bytes;
    console.log(
      `  ${members} members: libsignal group ${groupMs.toFixed(2)} ms / ${groupCpu.toFixed(1)} CPU-ms (${groupBytes} bytes), Sotto group send ${sottoMs.toFixed(2)} ms / ${sottoCpu.toFixed(1)} CPU-ms (${stages}), pairwise ${pairwiseMs.toFixed(2)} ms / ${pairwiseCpu.toFixed(1)} CPU-ms (${pairwiseBytes} bytes)`,
    );
    metrics.push(
      {
        section: SECTION,
        name: `${members} members: pairwise encrypt + seal`,
        value: pairwiseMs,
        unit: 'ms',
        note: `${pairwiseBytes.toLocaleString('en-US')} bytes to hand over; ${pairwiseCpu.toFixed(1)} CPU-ms`,
      },
      {
        section: SECTION,
        name: `${members} members: sender key + one seal`,
        value: groupMs,
        unit: 'ms',
        baseline: { name: 'pairwise', value: pairwiseMs },
        ...(members === 100 ? { target: { op: '<=' as const, value: 0.1 * pairwiseMs } } : {}),
        note: `libsignal alone, in memory, ${groupCpu.toFixed(1)} CPU-ms; ${groupBytes.toLocaleString('en-US')} bytes in one send.multi${members === 100 ? '; target ≤ 0.1× pairwise' : ''}`,
      },
      {
        section: SECTION,
        name: `${members} members: Sotto group send, CPU`,
        value: sottoCpu,
        unit: 'ms',
        baseline: { name: 'pairwise, CPU', value: pairwiseCpu },
        note: `queue, groupEncrypt committed with the ciphertext, seal for all, bookkeeping commit; relay write excluded; wall ${sottoMs.toFixed(1)} ms (${stages})`,
      },
    );
  }

  console.log(
    `\n[groups] receiving ${receiveMessages} group messages (batches of ${receiveBatch}) through processEnvelopes vs raw groupDecrypt`,
  );
  const received = await groupReceive(receiveMessages, receiveBatch);
  const cpu = received.cpuUs;
  console.log(
    `  CPU µs per message: pipeline ${cpu.pipeline.toFixed(0)}, raw unseal + groupDecrypt ${cpu.rawUnsealed.toFixed(0)}, raw groupDecrypt ${cpu.raw.toFixed(0)}`,
  );
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
      note: `unseal (SSv2 copy), certificate + membership checks, groupDecrypt, commit with the chain; target ≥ 0.7× raw; ${(received.pipeline.perSecond / received.rawUnsealed.perSecond).toFixed(2)}× of raw unseal + groupDecrypt; CPU µs/message: pipeline ${cpu.pipeline.toFixed(0)}, raw unseal + groupDecrypt ${cpu.rawUnsealed.toFixed(0)}, raw groupDecrypt ${cpu.raw.toFixed(0)}`,
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
