import crypto from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { performance } from 'node:perf_hooks';

// One backup operation in a fresh process, so its peak RSS is its own.
// Usage: child.ts export|export-apart|verify PROFILE_DIR PROFILE_PASSPHRASE FILE BACKUP_PASSPHRASE
// Prints one JSON line.
//
// Export seals the payload while scrypt runs (the header is written last), so
// no progress report marks the end of the KDF, and while both run the memory
// and CPU are shared. The KDF is observed directly: node:crypto's scrypt is
// wrapped before the core is loaded (syncBuiltinESMExports makes the core's
// named import see the wrapper); `kdfMs` is scrypt's own duration.
// - `export`: the product as it is (total time, peak RSS with scrypt).
// - `export-apart`: the wrapper holds scrypt back until the last record is
//   sealed, so the streaming runs alone: `streamMs` and `streamingPeakMB`
//   (high-water mark reset at the start, read when the last record is sealed)
//   are the streaming's own. Only its streaming figures are used.
// - `verify`: the KDF comes first (the file key is needed to read anything);
//   the high-water mark is reset when scrypt returns, so `streamingPeakMB` is
//   the reading alone and `streamMs` the time after the KDF.

const [mode, dir, profilePassphrase, file, passphrase] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];

let kdfStartedAt = 0;
let kdfEndedAt = 0;
/** The high-water mark before the reset (scrypt included for verify): the reset clears getrusage's maxRSS too. */
let peakBeforeResetMB = 0;
let streamEndedAt = 0;
let streamPeakMB = 0;
let releaseKdf: () => void = () => undefined;
const streamDone = new Promise<void>((resolve) => (releaseKdf = resolve));

const scrypt = crypto.scrypt;
// Same signature and behaviour; only the timing is observed (and, for export-apart, deferred).
crypto.scrypt = ((...args: Parameters<typeof crypto.scrypt>) => {
  const callback = args[args.length - 1] as (error: Error | null, key: Buffer) => void;
  const run = () => {
    kdfStartedAt = performance.now();
    (scrypt as (...a: unknown[]) => void)(
      ...args.slice(0, -1),
      (error: Error | null, key: Buffer) => {
        kdfEndedAt = performance.now();
        if (mode === 'verify') {
          peakBeforeResetMB = highWaterMB();
          resetHighWater();
        }
        callback(error, key);
      },
    );
  };
  if (mode === 'export-apart') void streamDone.then(run);
  else run();
}) as typeof crypto.scrypt;
syncBuiltinESMExports();
const { exportBackup, Profile, verifyBackup } = await import('../../electron/core/index.ts');

function resetHighWater(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: the streaming peak is then the whole-process peak
  }
}
function highWaterMB(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

const profile =
  mode !== 'verify' ? await Profile.open(dir, { passphrase: profilePassphrase }) : undefined;
// The integrity check Profile.open starts runs in a worker with its own connection: let it finish
// first, so the figures are the export's own (the check is measured in the history section).
await profile?.integrity;
if (mode === 'export-apart') resetHighWater();
const started = performance.now();
const onProgress = (p: { done: number; total: number }) => {
  if (mode !== 'export-apart' || p.done < p.total || streamEndedAt > 0) return;
  streamEndedAt = performance.now();
  streamPeakMB = highWaterMB();
  releaseKdf();
};
const bytes =
  mode === 'verify'
    ? (await verifyBackup(file, passphrase, { onProgress })).bytes
    : (await exportBackup(profile!, file, { passphrase, onProgress })).bytes;
const ended = performance.now();
const endPeakMB = highWaterMB();
await profile?.close();
const apart = mode === 'export-apart';
process.stdout.write(
  `${JSON.stringify({
    ms: ended - started,
    bytes,
    kdfMs: kdfEndedAt - kdfStartedAt,
    streamMs: apart
      ? streamEndedAt - started
      : mode === 'verify'
        ? ended - kdfEndedAt
        : ended - started,
    peakMB: Math.max(peakBeforeResetMB, endPeakMB),
    streamingPeakMB: apart ? streamPeakMB : endPeakMB,
  })}\n`,
);
