/**
 * The core's only logger. It takes an event name and numeric, boolean or
 * error-code fields: there is no way to hand it free text, so message bodies,
 * names and keys cannot reach a log. Output goes to stderr when SOTTO_LOG is set.
 */
export type LogFields = Readonly<Record<string, number | boolean | null>>;

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function threshold(): number | undefined {
  const level = process.env['SOTTO_LOG'];
  return level && level in ORDER ? ORDER[level as Level] : undefined;
}

function write(level: Level, event: string, fields?: LogFields, code?: string): void {
  const min = threshold();
  if (min === undefined || ORDER[level] < min) return;
  const line = JSON.stringify({
    t: Date.now(),
    level,
    event,
    ...(code ? { code } : {}),
    ...fields,
  });
  process.stderr.write(`${line}\n`);
}

/** Structured, redaction-by-construction logging. */
export const log = {
  debug: (event: string, fields?: LogFields) => write('debug', event, fields),
  info: (event: string, fields?: LogFields) => write('info', event, fields),
  warn: (event: string, fields?: LogFields) => write('warn', event, fields),
  /** `error` logs only the error's stable code (or its class name), never its message. */
  error: (event: string, error: unknown, fields?: LogFields) =>
    write('error', event, fields, errorCode(error)),
};

function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') return String(code);
    return (error as { name?: unknown }).name === undefined
      ? 'unknown'
      : String((error as Error).name);
  }
  return 'unknown';
}
