// Entry of the core's worker thread (built as its own main-process entry,
// out/main/core-worker.js; run from source through tsx under plain Node).
// The profile, SQLCipher, libsignal and sync all live here, off the main
// thread's event loop; CoreHost (core-host.ts) is the other end.
import { parentPort, workerData } from 'node:worker_threads';
import { createCoreService } from '../core/service/app-service.ts';
import type { CoreWorkerInit } from './core-protocol.ts';
import { serveCore } from './core-worker-runtime.ts';

if (!parentPort) throw new Error('core-worker.ts must run in a worker thread');
serveCore(parentPort, workerData as CoreWorkerInit, createCoreService);
