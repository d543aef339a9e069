import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { attachmentPaintSection } from './attachments/paint.ts';
import { attachmentsSection } from './attachments/section.ts';
import { backupSection } from './backup/section.ts';
import { RELAY_BLOBS, relayBlobsSection } from './blobs/section.ts';
import { eventLoopSection } from './event-loop/section.ts';
import { GROUPS, groupsSection } from './groups/section.ts';
import { historySection } from './history/section.ts';
import { receiveSection } from './receive/section.ts';
import { sealedSection } from './sealed/section.ts';
import { relayPgCostSection } from './relay-scale/pg-cost.ts';
import { RELAY_SCALE, relayConnectionsSection, relayScaleSection } from './relay-scale/section.ts';
import { RELAY_FLOOD, relayFloodSection } from './sync/flood-section.ts';
import { MULTI, multiSection } from './sync/multi-section.ts';
import { SYNC, syncSection } from './sync/section.ts';
import { historyMessageCount, RECEIVE } from './support/config.ts';
import { type Metric, printTable, writeResults } from './support/report.ts';
import { removeTempDirs } from './support/temp.ts';

// `npm run bench`: figures with targets and in-run baselines. Not pass/fail.
// BENCH_MESSAGES scales the history benchmark (default 1,000,000);
// BENCH_ONLY=receive,sealed,history,sync,relay-flood,relay-scale,relay-connections,relay-pgcost,relay-blobs,multi,groups,event-loop,backup,attachments,attachments-paint
// runs only the named sections (BENCH_ATTACHMENT_MIB=10,100 sets the attachment sizes,
// BENCH_ATTACHMENT_RUNS=3 the runs of each; BENCH_SCALE_SENDERS=2 the scale-out sender
// connections per node).

const RESULTS = join(import.meta.dirname, 'results', 'latest.json');

/** True if BENCH_ONLY is unset or names `section`. */
function selected(section: string): boolean {
  const only = process.env['BENCH_ONLY'];
  return (
    !only ||
    only
      .split(',')
      .map((s) => s.trim())
      .includes(section)
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  const messages = historyMessageCount();
  console.log(
    `Sotto benchmarks — node ${process.version}, ${cpus().length} CPUs, history ${messages.toLocaleString('en-US')} messages`,
  );

  const metrics: Metric[] = [];
  try {
    if (selected('receive')) {
      const receive = await receiveSection();
      printTable('Receive pipeline vs raw libsignal', receive);
      metrics.push(...receive);
    }
    if (selected('sealed')) {
      const sealed = await sealedSection();
      printTable('Sealed sender 1:1 end to end vs unsealed vs raw libsignal', sealed);
      metrics.push(...sealed);
    }
    if (selected('history')) {
      const history = await historySection(messages);
      printTable(`History at ${messages.toLocaleString('en-US')} messages`, history);
      metrics.push(...history);
    }
    if (selected('event-loop')) {
      const eventLoop = await eventLoopSection(messages);
      printTable(
        `Main-thread event loop during search (${messages.toLocaleString('en-US')} messages)`,
        eventLoop,
      );
      metrics.push(...eventLoop);
    }
    if (selected('backup')) {
      const backup = await backupSection(messages);
      printTable(
        `Backup export and verify at ${messages.toLocaleString('en-US')} messages vs the age CLI`,
        backup,
      );
      metrics.push(...backup);
    }
    if (selected('attachments')) {
      const attachments = await attachmentsSection();
      printTable(
        'Attachments end to end (folder relay) vs raw AES over the same bytes',
        attachments,
      );
      metrics.push(...attachments);
    }
    if (selected('attachments-paint')) {
      const paint = await attachmentPaintSection();
      printTable('Opening 200 image messages in the app (Chromium): images after text rows', paint);
      metrics.push(...paint);
    }
    if (selected('sync')) {
      const sync = await syncSection();
      printTable('Relay + sync (loopback, real relay process)', sync);
      metrics.push(...sync);
    }
    if (selected('multi')) {
      const multi = await multiSection();
      printTable(
        'One group message to 100 accounts: send.multi vs single sends (real relay process)',
        multi,
      );
      metrics.push(...multi);
    }
    if (selected('groups')) {
      const groups = await groupsSection();
      printTable(
        'Groups: one message to 10 / 100 / 1,000 members vs pairwise; receive vs raw groupDecrypt; a 1,000-copy relay store',
        groups,
      );
      metrics.push(...groups);
    }
    if (selected('relay-flood')) {
      const flood = await relayFloodSection();
      printTable('Relay intake under a flood of strangers (loopback, real relay process)', flood);
      metrics.push(...flood);
    }
    if (selected('relay-scale')) {
      const scale = await relayScaleSection();
      printTable(
        'Relay on SQLite vs PostgreSQL, one and two nodes (loopback, real processes)',
        scale,
      );
      metrics.push(...scale);
    }
    if (selected('relay-connections') && !selected('relay-scale')) {
      const held = await relayConnectionsSection();
      printTable('One relay node holding many connections (loopback, real processes)', held);
      metrics.push(...held);
    }
    if (selected('relay-pgcost')) {
      const cost = await relayPgCostSection();
      printTable(
        'What one message costs PostgreSQL (BENCH_PGCOST_NODES=1 or 2, loopback, real processes)',
        cost,
      );
      metrics.push(...cost);
    }
    if (selected('relay-blobs')) {
      const blobs = await relayBlobsSection();
      printTable('One attachment blob through a relay process (loopback)', blobs);
      metrics.push(...blobs);
    }
  } finally {
    removeTempDirs();
  }

  const wallSeconds = (performance.now() - started) / 1000;
  printTable('Summary', metrics);
  writeResults(
    RESULTS,
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      historyMessages: messages,
      receive: RECEIVE,
      sync: SYNC,
      relayFlood: RELAY_FLOOD,
      relayScale: RELAY_SCALE,
      relayBlobs: RELAY_BLOBS,
      multi: MULTI,
      groups: GROUPS,
      wallSeconds,
    },
    metrics,
  );
  console.log(`\nwall time ${wallSeconds.toFixed(1)} s; results in ${RESULTS}`);
}

await main();
