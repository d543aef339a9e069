import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { HttpBlobDownloads, WebSocketBlobUploads } from '../../electron/core/sync/ws-blobs.ts';
import { WebSocketHomeRelay } from '../../electron/core/sync/ws-home-relay.ts';
import { ACCOUNT_ID_DOMAIN, accountIdFromDigest } from '../../shared/protocol/account-id.ts';
import { startRelayProcess } from '../../tests/support/relay-process.ts';
import type { Metric } from '../support/report.ts';
import { tempDir } from '../support/temp.ts';

// Benchmark: one blob through a relay process over loopback with the core's
// client (electron/core/sync/ws-blobs.ts): tus PATCH up, GET down, against
// writing and fsyncing the same bytes to a file (the disk the relay writes
// to), and the relay's peak memory, which must not grow with the blob.

const SECTION = 'relay-blobs';
const CHUNK = 64 * 1024;

/** Shape of the blob benchmark (BENCH_ONLY=relay-blobs). */
export const RELAY_BLOBS = { mebibytes: 100 } as const;

/** VmHWM (peak resident set) of a process, in MB; Linux only, 0 elsewhere. */
function peakRssMb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? 0 : Number(match[1]) / 1024;
  } catch {
    return 0;
  }
}

function* chunksOf(bytes: Buffer): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += CHUNK) yield bytes.subarray(at, at + CHUNK);
}

async function diskSeconds(bytes: Buffer): Promise<number> {
  const start = performance.now();
  const file = await open(join(tempDir(), 'disk'), 'w');
  for (const chunk of chunksOf(bytes)) await file.write(chunk);
  await file.sync();
  await file.close();
  return (performance.now() - start) / 1000;
}

/** Upload and download MB/s of one blob, against the disk; the relay's peak RSS before and after. */
export async function relayBlobsSection(): Promise<Metric[]> {
  const size = RELAY_BLOBS.mebibytes * 1024 * 1024;
  console.log(
    `\n[relay-blobs] one ${RELAY_BLOBS.mebibytes} MiB blob through a relay child on 127.0.0.1`,
  );
  const bytes = randomBytes(size);
  const relay = await startRelayProcess(tempDir(), {
    args: ['--max-blob-bytes', String(size), '--blob-quota-bytes', String(size)],
  });
  const identity = IdentityKeyPair.generate();
  const publicKey = identity.publicKey.serialize();
  const address = relay.url.replace(/\/v2$/, '');
  const home = new WebSocketHomeRelay(
    address,
    {
      accountId: accountIdFromDigest(
        createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(publicKey).digest(),
      ),
      deviceId: 1,
      identityKey: publicKey,
      sign: (message) => identity.privateKey.sign(message),
    },
    { expected: () => undefined },
  );
  try {
    const uploads = new WebSocketBlobUploads(address, (length) => home.createBlob(length));
    const upload = await uploads.create(size);
    const idleRss = peakRssMb(relay.pid);
    const upStart = performance.now();
    const offset = await uploads.append(upload, 0, Readable.from(chunksOf(bytes)));
    const upSeconds = (performance.now() - upStart) / 1000;
    if (offset !== size) throw new Error('the upload did not complete');
    const downStart = performance.now();
    const download = await new HttpBlobDownloads(address).download(upload.blobId, 0);
    let received = 0;
    for await (const chunk of download.body) received += chunk.length;
    const downSeconds = (performance.now() - downStart) / 1000;
    if (received !== size) throw new Error('the download was short');
    const peakRss = peakRssMb(relay.pid);
    const disk = {
      name: 'write + fsync to a file',
      value: RELAY_BLOBS.mebibytes / (await diskSeconds(bytes)),
    };
    return [
      { section: SECTION, name: 'disk write + fsync (baseline)', value: disk.value, unit: 'MiB/s' },
      {
        section: SECTION,
        name: 'upload (blob.create + one tus PATCH, fsynced)',
        value: RELAY_BLOBS.mebibytes / upSeconds,
        unit: 'MiB/s',
        baseline: disk,
      },
      {
        section: SECTION,
        name: 'download (GET)',
        value: RELAY_BLOBS.mebibytes / downSeconds,
        unit: 'MiB/s',
      },
      {
        section: SECTION,
        name: 'relay peak RSS growth over the transfer',
        value: peakRss - idleRss,
        unit: 'MB',
        target: { op: '<=', value: 50 },
        note: 'the relay streams: its memory does not grow with the blob',
      },
    ];
  } finally {
    await home.close();
    await relay.stop();
  }
}
