import { MessageChannel, type MessagePort } from 'node:worker_threads';

// An export moves its whole history through buffers of a few hundred KB
// (blocks of message lines, sealed chunks). Dropped, they are freed only by a
// major GC, which V8 starts after some 64 MB of such garbage: that would be a
// quarter of the memory target. Transferring a buffer's memory into a closed
// message port detaches it and frees it at once (what Node 22's
// `ArrayBuffer.prototype.transfer` would do); if a runtime ever kept it
// instead, the GC still frees it as before.

let sink: MessagePort | undefined;

function closedPort(): MessagePort {
  if (!sink) {
    const { port1, port2 } = new MessageChannel();
    port2.close();
    port1.unref();
    sink = port1;
  }
  return sink;
}

/**
 * Frees the memory of buffers the caller will not touch again. Only buffers
 * that own their whole ArrayBuffer are freed (never a slice of Node's shared
 * pool); the others are left to the GC.
 */
export function releaseBuffers(buffers: readonly Uint8Array[]): void {
  const owned: ArrayBuffer[] = [];
  for (const b of buffers) {
    const memory = b.buffer;
    if (
      memory instanceof ArrayBuffer &&
      b.byteOffset === 0 &&
      memory.byteLength === b.byteLength &&
      memory.byteLength > 0
    )
      owned.push(memory);
  }
  if (owned.length > 0) closedPort().postMessage(null, owned);
}
