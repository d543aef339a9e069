import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startRelayProcess } from '../../tests/support/relay-process.ts';
import type { Metric } from '../support/report.ts';
import { tempDir } from '../support/temp.ts';

const run = promisify(execFile);
const SECTION = 'attachments';
const CHILD = join(import.meta.dirname, 'child.ts');

/** File sizes in MiB (BENCH_ATTACHMENT_MIB=small,large; default 10,100). */
export function attachmentSizes(): [number, number] {
  const [small = 10, large = 100] = (process.env['BENCH_ATTACHMENT_MIB'] ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(Number);
  return [small, large];
}

interface ChildResult {
  readonly ms: number;
  readonly sendMs: number;
  readonly receiveMs: number;
  readonly saveMs: number;
  readonly cpuMs: number;
  readonly bytes: number;
  readonly idleMB: number;
  readonly peakMB: number;
}

function writeRandom(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const block = randomBytes(1 << 20);
  for (let written = 0; written < bytes; written += block.length)
    writeSync(fd, block, 0, Math.min(block.length, bytes - written));
  closeSync(fd);
}

/** Node's raw AES-256-CBC over the file's bytes, read from disk as the product does: MB/s. */
async function rawAes(path: string, bytes: number): Promise<number> {
  const cipher = createCipheriv('aes-256-cbc', randomBytes(32), randomBytes(16));
  const started = performance.now();
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 }))
    cipher.update(chunk as Buffer);
  cipher.final();
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

/** Runs the child for one file over the relay at `relay`; returns its figures. */
async function endToEnd(dir: string, relay: string, source: string): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, dir, relay, source], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as ChildResult;
}

/**
 * Benchmark: one attachment end to end (encrypt + upload + download + verify +
 * local re-encrypt + decrypt to a file) between two profiles, on a folder
 * relay and on a relay process over 127.0.0.1, each size in its own process,
 * against Node's raw AES throughput over the same bytes in this run (target
 * ≥ 0.5×); CPU time per MiB (every thread of the child: steadier than the
 * wall clock on a busy machine); peak RSS above idle at both sizes (target ≤ 150 MB, flat).
 */
export async function attachmentsSection(): Promise<Metric[]> {
  const metrics: Metric[] = [];
  const relay = await startRelayProcess(tempDir('sotto-bench-attach-relay-'));
  try {
    for (const mib of attachmentSizes()) {
      const bytes = mib * 1024 * 1024;
      const dir = tempDir('sotto-bench-attach-');
      const source = join(dir, 'source.bin');
      writeRandom(source, bytes);
      for (const [kind, address] of [
        ['folder', join(dir, 'folder-relay')],
        ['ws', relay.url],
      ] as const) {
        console.log(`\n[attachments] ${mib} MiB end to end over a ${kind} relay…`);
        mkdirSync(join(dir, kind));
        const result = await endToEnd(join(dir, kind), address, source);
        const aes = await rawAes(source, bytes);
        metrics.push(...figures(`${mib} MiB, ${kind} relay`, bytes, result, aes));
      }
    }
  } finally {
    await relay.stop();
  }
  return metrics;
}

function figures(label: string, bytes: number, result: ChildResult, aes: number): Metric[] {
  return [
    {
      section: SECTION,
      name: `${label}: end to end (send + receive + save)`,
      value: bytes / 1e6 / (result.ms / 1000),
      unit: 'MB/s',
      baseline: { name: 'raw AES-256-CBC', value: aes },
      target: { op: '>=', value: 0.5 * aes },
      note: `send ${result.sendMs.toFixed(0)} ms, receive ${result.receiveMs.toFixed(0)} ms, save ${result.saveMs.toFixed(0)} ms; the transport blob is sealed once and opened once (AES-CBC, each pass hashed twice: digest, MAC) and uploaded while it is sealed, the stored copies sealed twice and opened once (chunked AES-GCM, no hash pass); the receiver decrypts and seals while downloading, and drains with idleMs 0 (the mailbox's linger for more mail is not attachment work)`,
    },
    {
      section: SECTION,
      name: `${label}: CPU per MiB`,
      value: result.cpuMs / (bytes / 2 ** 20),
      unit: 'ms',
      note: `${result.cpuMs.toFixed(0)} ms of CPU (all threads) for the whole path`,
    },
    {
      section: SECTION,
      name: `${label}: peak RSS above idle`,
      value: result.peakMB - result.idleMB,
      unit: 'MB',
      target: { op: '<=', value: 150 },
      note: `idle ${result.idleMB.toFixed(0)} MB, peak ${result.peakMB.toFixed(0)} MB`,
    },
  ];
}
