// What a call failed with, as the `code` of its error (SottoError and Node
// system errors carry one), so a test can assert the failure in one line.

/** The code of an error: its `code`, or `uncoded: …` for an error without one. */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : `uncoded: ${String(error)}`;
}

/** The code of the error `fn` throws (`uncoded: …` if it has none); undefined if it returns. */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return codeOf(error);
  }
  return undefined;
}

/** The code of the error `fn` throws or rejects with (`uncoded: …` if it has none); undefined if it resolves. */
export async function rejectedCode(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return codeOf(error);
  }
  return undefined;
}
