import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { exportBackup, Profile, verifyBackup } from '../../electron/core/index.ts';

// One backup operation in a fresh process, so its peak RSS is its own.
// Usage: child.ts export|verify PROFILE_DIR PROFILE_PASSPHRASE FILE BACKUP_PASSPHRASE
// Prints one JSON line. "streamingPeakMB" is the peak after the scrypt key
// derivation (Linux: the kernel's high-water mark is reset when the first
// progress report arrives, i.e. once the header is written or read).

const [mode, dir, profilePassphrase, file, passphrase] = process.argv.slice(2) as [string, string, string, string, string];

let streamingReset = false;
/** The high-water mark up to the reset (scrypt included): the reset clears getrusage's maxRSS too. */
let kdfPeakMB = 0;
function resetPeak(): void {
  if (streamingReset) return;
  streamingReset = true;
  kdfPeakMB = highWaterMB();
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

const profile = mode === 'export' ? await Profile.open(dir, { passphrase: profilePassphrase }) : undefined;
// The integrity check Profile.open starts runs in a worker with its own connection: let it finish
// first, so the figures are the export's own (the check is measured in the history section).
await profile?.integrity;
const started = performance.now();
let firstProgressMs = 0;
const onProgress = () => {
  if (!streamingReset) firstProgressMs = performance.now() - started;
  resetPeak();
};
const bytes =
  mode === 'export'
    ? (await exportBackup(profile!, file, { passphrase, onProgress })).bytes
    : (await verifyBackup(file, passphrase, { onProgress })).bytes;
const ms = performance.now() - started;
const streamingPeakMB = highWaterMB();
await profile?.close();
process.stdout.write(
  `${JSON.stringify({ ms, bytes, kdfMs: firstProgressMs, peakMB: Math.max(kdfPeakMB, streamingPeakMB), streamingPeakMB })}\n`,
);
