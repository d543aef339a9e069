// Which window started which send with files (docs/ipc.md#attachments): the
// renderer names each send with a fresh UUID (`sendId`), main binds it to the
// web contents that sent it, and `attachments:cancel-send` reaches the core
// only from that same window. Another window's id, a forgotten one and one
// never sent are all UNKNOWN_SEND (no oracle). Shared by ipc.ts and the
// Chromium harness, which plays main there.
import type { MethodName, Result } from '../../shared/ipc/contract.ts';
import { methods } from '../../shared/ipc/contract.ts';

/** Send ids one window may hold; more forgets the oldest (a Cancel of those is UNKNOWN_SEND). */
export const SEND_IDS_PER_WINDOW = 64;

/** Send ids by owner (a web contents id), in memory only. */
export class SendOwners {
  readonly #owners = new Map<string, number>();

  /** Binds `sendId` to `owner`; false if any window already used it. */
  claim(owner: number, sendId: string): boolean {
    if (this.#owners.has(sendId)) return false;
    this.#owners.set(sendId, owner);
    const mine = [...this.#owners].filter(([, o]) => o === owner);
    for (const [id] of mine.slice(0, Math.max(0, mine.length - SEND_IDS_PER_WINDOW)))
      this.#owners.delete(id);
    return true;
  }

  /** True if `owner` sent `sendId`. */
  owns(owner: number, sendId: string): boolean {
    return this.#owners.get(sendId) === owner;
  }

  /** Forgets a closed or reloaded window's sends. */
  forget(owner: number): void {
    for (const [id, o] of this.#owners) if (o === owner) this.#owners.delete(id);
  }
}

/** The sends that may name a `sendId`: the dialog's, dropped bytes, the tray. */
const SENDS = new Set<MethodName>([
  'attachments:send',
  'attachments:send-bytes',
  'attachments:send-files',
]);

/**
 * Main's check of a call that names a send: a send's new id is bound to
 * `owner` (INVALID_INPUT if any window used it before), a cancel must name
 * one of `owner`'s (UNKNOWN_SEND otherwise). Undefined: the call goes on
 * (malformed input is refused by the contract's schema after this). It runs
 * before a file method's dialog, so a reused id never opens one.
 */
export function checkSendCall(
  method: MethodName,
  rawInput: unknown,
  owner: number,
  owners: SendOwners,
): Result<never> | undefined {
  if (method === 'attachments:cancel-send') {
    const input = methods[method].input.safeParse(rawInput);
    if (!input.success) return { ok: false, code: 'INVALID_INPUT' };
    return owners.owns(owner, input.data.sendId) ? undefined : { ok: false, code: 'UNKNOWN_SEND' };
  }
  if (!SENDS.has(method)) return undefined;
  const input = methods[method].input.safeParse(rawInput);
  if (!input.success || !('sendId' in input.data) || input.data.sendId === undefined)
    return undefined;
  return owners.claim(owner, input.data.sendId) ? undefined : { ok: false, code: 'INVALID_INPUT' };
}
