import { createHash } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './profiles.ts';

// The relays attachment tests run over, by kind. Folder relays now; the
// integrator adds 'ws' (a sotto-relay process and its blob store) after the
// ws-blobs branch lands, and every test written over this helper runs on both.

/** Relay kinds the attachment tests cover. */
export type AttachmentRelayKind = 'folder';

/** A relay for a test: its address and a view of the blobs it stores. */
export interface AttachmentRelay {
  readonly address: string;
  /** Sizes of the blob files the relay holds (bytes received so far), by blob id. */
  blobSizes(): Map<string, number>;
  stop(): Promise<void>;
}

/** Every kind a test should run over (it.each / describe.each). */
export const ATTACHMENT_RELAY_KINDS: readonly AttachmentRelayKind[] = ['folder'];

/** Starts a relay of `kind`. */
export function startAttachmentRelay(kind: AttachmentRelayKind): Promise<AttachmentRelay> {
  switch (kind) {
    case 'folder': {
      const address = join(tempDir('sotto-attach-relay-'), 'relay');
      return Promise.resolve({
        address,
        blobSizes: () => folderBlobSizes(address),
        stop: () => Promise.resolve(),
      });
    }
  }
}

function folderBlobSizes(address: string): Map<string, number> {
  const sizes = new Map<string, number>();
  let names: string[];
  try {
    names = readdirSync(join(address, 'blobs'));
  } catch {
    return sizes;
  }
  for (const name of names) {
    const match = /^([A-Za-z0-9_-]{22})\.data$/.exec(name);
    if (!match) continue;
    try {
      sizes.set(match[1]!, statSync(join(address, 'blobs', name)).size);
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
