import { ERROR_MESSAGES, type ErrorCode } from '../../shared/errors.ts';

/**
 * An error a user can meet. `message` is `CODE: sentence`; `detail` is for
 * diagnostics and must never hold message text, names or key material.
 */
export class SottoError extends Error {
  override readonly name = 'SottoError';

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${ERROR_MESSAGES[code]}`, options);
  }
}

/** True if `error` is a SottoError with the given code. */
export function hasCode(error: unknown, code: ErrorCode): boolean {
  return error instanceof SottoError && error.code === code;
}
