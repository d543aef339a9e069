import { createHash } from 'node:crypto';
import { readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { tempDir } from './profiles.ts';
import { relayDataDir } from './relay-client.ts';
import { type RelayProcess, startRelayProcess } from './relay-process.ts';

// The relays attachment tests run over, by kind: a folder relay, and a
// sotto-relay process with its filesystem blob store (tus over HTTP).

/** Relay kinds the attachment tests cover. */
export type AttachmentRelayKind = 'folder' | 'ws';

/** A relay for a test: its address and a view of the blobs it stores. */
export interface AttachmentRelay {
  readonly address: string;
  /** Sizes of the blob files the relay holds (bytes received so far), by blob id. */
  blobSizes(): Map<string, number>;
  /** Makes the relay unreachable (a process stopped, a folder moved away) until `up`; its data is kept. */
  down(): Promise<void>;
  /** Brings it back on the same address and data. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** Every kind a test should run over (it.each / describe.each). */
export const ATTACHMENT_RELAY_KINDS: readonly AttachmentRelayKind[] = ['folder', 'ws'];

/** Starts a relay of `kind`. */
export async function startAttachmentRelay(kind: AttachmentRelayKind): Promise<AttachmentRelay> {
  switch (kind) {
    case 'ws': {
      const data = relayDataDir();
      let relay: RelayProcess | undefined = await startRelayProcess(data);
      const { url, port } = relay;
      const stop = async () => {
        await relay?.stop();
        relay = undefined;
      };
      return {
        address: url,
        // The relay names blob files by random storage keys, never by blob id: sizes by file.
        blobSizes: () => fileSizes(join(data, 'blobs'), /^([0-9a-f]+)$/),
        down: stop,
        up: async () => void (relay ??= await startRelayProcess(data, { port })),
        stop,
      };
    }
    case 'folder': {
      const address = join(tempDir('sotto-attach-relay-'), 'relay');
      const away = `${address}.away`;
      return {
        address,
        blobSizes: () => fileSizes(join(address, 'blobs'), /^([A-Za-z0-9_-]{22})\.data$/),
        down: () => Promise.resolve(renameSync(address, away)),
        up: () => Promise.resolve(renameSync(away, address)),
        stop: () => Promise.resolve(),
      };
    }
  }
}

/** A starter for relays of a kind that a vitest afterEach stops once each test ends. */
export function useAttachmentRelays(): (kind: AttachmentRelayKind) => Promise<AttachmentRelay> {
  const relays: AttachmentRelay[] = [];
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });
  return async (kind) => {
    const relay = await startAttachmentRelay(kind);
    relays.push(relay);
    return relay;
  };
}

/** Sizes of the files in `dir` whose name matches `pattern`, by its first group. */
function fileSizes(dir: string, pattern: RegExp): Map<string, number> {
  const sizes = new Map<string, number>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return sizes;
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    try {
      sizes.set(match[1]!, statSync(join(dir, name)).size);
    } catch {
      // deleted meanwhile
    }
  }
  return sizes;
}

/** Deterministic, incompressible test bytes (distinct per seed and size). */
export function testBytes(size: number, seed = 'file'): Buffer {
  return createHash('shake256', { outputLength: size }).update(`${seed} ${size}`).digest();
}

/** Writes a test file of `size` bytes; returns its path. */
export function testFile(dir: string, name: string, size: number, seed = name): string {
  const path = join(dir, name);
  writeFileSync(path, testBytes(size, seed));
  return path;
}
