import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { percentile } from '../support/stats.ts';

// The raw cost of the cryptography the attachment path must run over a file's
// bytes, each primitive timed alone over the bytes in memory (no I/O, no
// framing): the "crypto floor" the product is compared with, beside the
// issue's single raw AES-CBC pass. The passes are counted from the code
// (docs/architecture.md#attachments): the sender's seal (BlobSealer: CBC, MAC,
// digest; AtRestSealer: the stored copy), the receiver's pass (BlobCheck:
// digest, MAC; BlobOpener: CBC decrypt; LocalStage: the staged copy) and save
// (readAtRest). Chunking as the product's: 1 MiB reads, 64 KiB at-rest chunks
// each under its own GCM cipher object (the format's fixed per-chunk cost).

const READ_BYTES = 1024 * 1024;
const AT_REST_CHUNK_BYTES = 64 * 1024;

/** One primitive over the whole file; `count` is how many times the path runs it. */
export interface FloorPrimitive {
  readonly name: string;
  readonly count: number;
  readonly why: string;
}

/** Every crypto pass over the file's bytes in one send + receive + save. */
export const FLOOR_PRIMITIVES: readonly FloorPrimitive[] = [
  { name: 'AES-256-CBC encrypt', count: 1, why: 'sender: transport blob' },
  { name: 'AES-256-CBC decrypt', count: 1, why: 'receiver: transport blob' },
  { name: 'SHA-256', count: 2, why: 'digest, at each end' },
  { name: 'HMAC-SHA256', count: 2, why: 'MAC, at each end' },
  { name: 'AES-256-GCM seal', count: 2, why: 'stored copy, at each end' },
  { name: 'AES-256-GCM open', count: 1, why: 'save' },
];

/** Wall and CPU milliseconds of one primitive pass (one thread, synchronous). */
export interface PassTime {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** One floor sample: each primitive once over the bytes, by name. */
export type FloorSample = ReadonlyMap<string, PassTime>;

function timed(run: () => void): PassTime {
  const cpu = process.cpuUsage();
  const started = performance.now();
  run();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

function slices(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

function nonce(index: number): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeUIntBE(index, 5, 6);
  return bytes;
}

/** Times every primitive of FLOOR_PRIMITIVES once over `data` (in memory). */
export function floorSample(data: Buffer): FloorSample {
  const key = randomBytes(32);
  const iv = randomBytes(16);
  const reads = slices(data, READ_BYTES);
  const chunks = slices(data, AT_REST_CHUNK_BYTES);
  const times = new Map<string, PassTime>();
  let ciphertext: Buffer[] = [];
  times.set(
    'AES-256-CBC encrypt',
    timed(() => {
      const cipher = createCipheriv('aes-256-cbc', key, iv);
      ciphertext = reads.map((read) => cipher.update(read));
      ciphertext.push(cipher.final());
    }),
  );
  times.set(
    'AES-256-CBC decrypt',
    timed(() => {
      const decipher = createDecipheriv('aes-256-cbc', key, iv);
      for (const part of ciphertext) decipher.update(part);
      decipher.final();
    }),
  );
  times.set(
    'SHA-256',
    timed(() => {
      const hash = createHash('sha256');
      for (const part of ciphertext) hash.update(part);
      hash.digest();
    }),
  );
  times.set(
    'HMAC-SHA256',
    timed(() => {
      const mac = createHmac('sha256', key);
      for (const part of ciphertext) mac.update(part);
      mac.digest();
    }),
  );
  let sealed: { body: Buffer; tag: Buffer }[] = [];
  times.set(
    'AES-256-GCM seal',
    timed(() => {
      sealed = chunks.map((chunk, i) => {
        const cipher = createCipheriv('aes-256-gcm', key, nonce(i));
        const body = cipher.update(chunk);
        cipher.final(); // GCM is a stream mode: no bytes here
        return { body, tag: cipher.getAuthTag() };
      });
    }),
  );
  times.set(
    'AES-256-GCM open',
    timed(() => {
      sealed.forEach(({ body, tag }, i) => {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce(i));
        decipher.setAuthTag(tag);
        decipher.update(body);
        decipher.final();
      });
    }),
  );
  return times;
}

/** Median wall and CPU of each primitive over the samples, and the floor: the counted sum. */
export interface Floor {
  readonly perPass: ReadonlyMap<string, PassTime>;
  /** Σ count × median wall of each primitive: the path's crypto on one thread. */
  readonly wallMs: number;
  readonly cpuMs: number;
  /** The raw AES-CBC encrypt pass alone, every sample (the baseline). */
  readonly aesWallMs: readonly number[];
  /** Its CPU time, every sample: steadier than the wall clock on a busy machine. */
  readonly aesCpuMs: readonly number[];
}

/** The floor from several samples (medians per primitive, so one preempted pass does not move it). */
export function floorOf(samples: readonly FloorSample[]): Floor {
  const perPass = new Map<string, PassTime>();
  let wallMs = 0;
  let cpuMs = 0;
  for (const { name, count } of FLOOR_PRIMITIVES) {
    const runs = samples.map((s) => s.get(name)!);
    const median = {
      wallMs: percentile(
        runs.map((r) => r.wallMs),
        50,
      ),
      cpuMs: percentile(
        runs.map((r) => r.cpuMs),
        50,
      ),
    };
    perPass.set(name, median);
    wallMs += count * median.wallMs;
    cpuMs += count * median.cpuMs;
  }
  const aes = samples.map((s) => s.get('AES-256-CBC encrypt')!);
  return {
    perPass,
    wallMs,
    cpuMs,
    aesWallMs: aes.map((a) => a.wallMs),
    aesCpuMs: aes.map((a) => a.cpuMs),
  };
}
