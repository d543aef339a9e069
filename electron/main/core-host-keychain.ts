// The core worker cannot reach the OS keychain (Electron's safeStorage lives in
// main): it asks main to wrap or unwrap a key, and main answers with the bytes
// or a closed error code, never the failure's detail.
import { isErrorCode } from '../../shared/errors.ts';
import { SottoError } from '../core/errors.ts';
import type { KeychainAdapter } from '../core/keys/keychain.ts';
import type { HostToWorker, WorkerToHost } from './core-protocol.ts';

/** Answers one keychain request of the worker through `reply`. */
export async function answerKeychain(
  keychain: KeychainAdapter | undefined,
  request: Extract<WorkerToHost, { type: 'keychain' }>,
  reply: (message: Extract<HostToWorker, { type: 'keychain-reply' }>) => void,
): Promise<void> {
  try {
    if (!keychain) throw new SottoError('KEYCHAIN_UNAVAILABLE');
    const value =
      request.op === 'encrypt'
        ? await keychain.encrypt(request.data)
        : await keychain.decrypt(request.data);
    reply({ type: 'keychain-reply', id: request.id, ok: true, value });
  } catch (error) {
    // The core decides what a failed unwrap means (KEYCHAIN_UNAVAILABLE); no detail crosses over.
    const code = error instanceof SottoError && isErrorCode(error.code) ? error.code : null;
    reply({ type: 'keychain-reply', id: request.id, ok: false, code });
  }
}
