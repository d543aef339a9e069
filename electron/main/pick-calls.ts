// The Attach button's IPC, on main's side (docs/ipc.md#attachments): the pick
// methods are answered here from the PickRegistry without reaching the core,
// and a send's pick tokens become the paths the core reads (context.picked).
// Shared by ipc.ts and the Chromium harness, which plays main there.
import type { MethodName, Result } from '../../shared/ipc/contract.ts';
import { methods } from '../../shared/ipc/contract.ts';
import { SottoError } from '../core/errors.ts';
import type { CallContext } from '../core/service/types.ts';
import type { PickRegistry } from './attachment-picks.ts';

/** Methods main answers itself. */
export type PickMethodName = 'attachments:pick' | 'attachments:picked-bytes';

/** True if main answers `method` from its pick table. */
export function isPickMethod(method: MethodName): method is PickMethodName {
  return method === 'attachments:pick' || method === 'attachments:picked-bytes';
}

/** Shows main's open dialog (several files); undefined if the user closed it. */
export type FilesChooser = () => Promise<readonly string[] | undefined>;

const refusal = (error: unknown): Result<never> => {
  if (error instanceof SottoError) return { ok: false, code: error.code };
  throw error;
};

/** Answers a pick method for the window `owner` (its web contents id). Never throws a SottoError. */
export async function answerPickCall(
  method: PickMethodName,
  rawInput: unknown,
  owner: number,
  registry: PickRegistry,
  choose: FilesChooser,
): Promise<Result<unknown>> {
  try {
    if (method === 'attachments:picked-bytes') {
      const input = methods[method].input.safeParse(rawInput);
      if (!input.success) return { ok: false, code: 'INVALID_INPUT' };
      return { ok: true, value: await registry.bytes(owner, input.data.token) };
    }
    // Validate before asking: malformed input never opens a dialog.
    if (!methods[method].input.safeParse(rawInput).success)
      return { ok: false, code: 'INVALID_INPUT' };
    const paths = await choose();
    if (!paths || paths.length === 0) return { ok: false, code: 'CANCELLED' };
    return { ok: true, value: await registry.add(owner, paths) };
  } catch (error) {
    return refusal(error);
  }
}

/**
 * An `attachments:send-files` call: its pick tokens reserved (all or none)
 * and handed to `send` as paths in the order they appear (context.picked),
 * then settled by `givesBackPicks`. INVALID_INPUT for malformed input,
 * ATTACHMENT_PICK_EXPIRED for a token the window may not use; neither
 * reaches `send`.
 */
export async function sendPickedFiles(
  rawInput: unknown,
  owner: number,
  registry: PickRegistry,
  send: (context: CallContext) => Promise<Result<unknown>>,
): Promise<Result<unknown>> {
  const input = methods['attachments:send-files'].input.safeParse(rawInput);
  if (!input.success) return { ok: false, code: 'INVALID_INPUT' };
  const tokens = input.data.files.flatMap((file) => ('token' in file ? [file.token] : []));
  let picked;
  try {
    picked = registry.reserve(owner, tokens);
  } catch (error) {
    return refusal(error);
  }
  let result: Result<unknown> | undefined;
  try {
    result = await send(tokens.length > 0 ? { picked } : {});
    return result;
  } finally {
    // Used up unless the outcome is a known refusal (a throw is no answer either).
    registry.settle(tokens, result === undefined || !givesBackPicks(result));
  }
}

/**
 * True if a send's outcome leaves its tokens usable: only a refusal the core
 * answered with a closed code (a blocked contact, a changed safety number),
 * which it gives before it queues anything. INTERNAL is an unknown outcome
 * (the worker died mid-call, or the core failed after it may have queued the
 * message): the tokens are used up, so a second Send cannot send the same
 * files twice; the user re-picks if the message is not in the conversation.
 */
export function givesBackPicks(result: Result<unknown>): boolean {
  return !result.ok && result.code !== 'INTERNAL';
}
