/**
 * The relay's only logger. It takes an event name and numeric or boolean
 * fields: there is no way to hand it text, so envelope bodies, keys and
 * account ids cannot reach a log line. Lines are JSON on stderr; the level
 * comes from SOTTO_RELAY_LOG (debug, info, warn, error, off; default warn).
 */
export type LogFields = Readonly<Record<string, number | boolean>>;

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Readonly<Record<Level | 'off', number>> = {
  debug: 0,
  info: 1,
  warn: 2,
  error: 3,
  off: 4,
};

function threshold(): number {
  const level = process.env['SOTTO_RELAY_LOG'] ?? 'warn';
  return level in ORDER ? ORDER[level as Level] : ORDER.warn;
}

function write(level: Level, event: string, fields?: LogFields): void {
  if (ORDER[level] < threshold()) return;
  process.stderr.write(`${JSON.stringify({ t: Date.now(), level, event, ...fields })}\n`);
}

/** Structured, content-free logging. `event` must be a constant such as `conn.auth_failed`. */
export const log = {
  debug: (event: string, fields?: LogFields) => write('debug', event, fields),
  info: (event: string, fields?: LogFields) => write('info', event, fields),
  warn: (event: string, fields?: LogFields) => write('warn', event, fields),
  error: (event: string, fields?: LogFields) => write('error', event, fields),
};
