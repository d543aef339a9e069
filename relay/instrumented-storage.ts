import { metrics, observeStorage } from './metrics.ts';
import type { RelayStorage } from './storage.ts';

/**
 * Wraps a storage so every call is timed into /metrics, and the envelope
 * counters follow what storage really did (stored, pushed, acked), whichever
 * request handler called it.
 */
export function instrumentStorage(storage: RelayStorage): RelayStorage {
  const timed =
    <A extends unknown[], R>(method: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = process.hrtime.bigint();
      let failed = true;
      try {
        const result = await call(...args);
        failed = false;
        return result;
      } finally {
        observeStorage(method, Number(process.hrtime.bigint() - started) / 1e9, failed);
      }
    };
  return {
    relayId: storage.relayId,
    account: timed('account', (id) => storage.account(id)),
    bindIdentityKey: timed('bindIdentityKey', (...a) => storage.bindIdentityKey(...a)),
    setTokenHash: timed('setTokenHash', (...a) => storage.setTokenHash(...a)),
    markMoved: timed('markMoved', (...a) => storage.markMoved(...a)),
    movedAmong: timed('movedAmong', (...a) => storage.movedAmong(...a)),
    publishKeys: timed('publishKeys', (...a) => storage.publishKeys(...a)),
    takeBundle: timed('takeBundle', (...a) => storage.takeBundle(...a)),
    forgetTakenKeys: timed('forgetTakenKeys', (...a) => storage.forgetTakenKeys(...a)),
    oneTimeKeyCounts: timed('oneTimeKeyCounts', (...a) => storage.oneTimeKeyCounts(...a)),
    keyIds: timed('keyIds', (...a) => storage.keyIds(...a)),
    devicesOf: timed('devicesOf', (...a) => storage.devicesOf(...a)),
    storeEnvelopes: timed(
      'storeEnvelopes',
      async (...a: Parameters<RelayStorage['storeEnvelopes']>) => {
        const results = await storage.storeEnvelopes(...a);
        metrics.envelopesIn += results.filter((r) => r.kind === 'stored').length;
        return results;
      },
    ),
    listQueued: timed('listQueued', async (...a: Parameters<RelayStorage['listQueued']>) => {
      const listed = await storage.listQueued(...a);
      metrics.envelopesOut += listed.length;
      return listed;
    }),
    deleteAcked: timed('deleteAcked', async (...a: Parameters<RelayStorage['deleteAcked']>) => {
      const result = await storage.deleteAcked(...a);
      if (result.kind === 'deleted') metrics.envelopesAcked += result.count;
      return result;
    }),
    countQueued: timed('countQueued', (...a) => storage.countQueued(...a)),
    expireBefore: timed('expireBefore', (...a) => storage.expireBefore(...a)),
    createBlob: timed('createBlob', (...a) => storage.createBlob(...a)),
    blob: timed('blob', (id) => storage.blob(id)),
    completeBlob: timed('completeBlob', (id) => storage.completeBlob(id)),
    expiredBlobs: timed('expiredBlobs', (...a) => storage.expiredBlobs(...a)),
    deleteBlobs: timed('deleteBlobs', (ids) => storage.deleteBlobs(ids)),
    ...(storage.onEnvelopesArrived === undefined
      ? {}
      : { onEnvelopesArrived: (listener) => storage.onEnvelopesArrived?.(listener) }),
    ...(storage.newestQueued === undefined
      ? {}
      : { newestQueued: timed('newestQueued', storage.newestQueued.bind(storage)) }),
    ...(storage.leaseBudget === undefined
      ? {}
      : { leaseBudget: timed('leaseBudget', storage.leaseBudget.bind(storage)) }),
    close: () => storage.close(),
  };
}
