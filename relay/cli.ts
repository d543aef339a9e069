import { parseArgs } from 'node:util';
import { z } from 'zod';
import { RELAY_PATH, createRelayServer } from './server.ts';
import { RELAY_DB_FILE, SqliteRelayStorage } from './sqlite-storage.ts';

// `sotto-relay`: the reference relay as a process. Prints exactly one line on
// stdout once listening (scripts and tests parse it); shuts down cleanly on
// SIGTERM or SIGINT, exiting 0 once sockets and the database are closed.

const USAGE = `Usage: sotto-relay --data DIR [options]

Runs a Sotto relay (docs/relay-protocol.md): WebSocket at ws://HOST:PORT/v1.

Options:
  --data DIR             where relay.db lives (created if missing; required)
  --port N               TCP port, 0 picks a free one (default 8787)
  --host ADDR            address to bind (default 127.0.0.1)
  --ttl-days N           delete envelopes left unacked this long (default 30)
  --mailbox-quota N      envelopes per mailbox before sends are refused (default 50000)
  --ttl-seconds N        for testing only: the envelope lifetime in seconds (overrides --ttl-days)
  -h, --help             print this help and exit

Logs go to stderr as JSON lines; SOTTO_RELAY_LOG=debug|info|warn|error|off (default warn).
`;

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const argsSchema = z.object({
  data: z.string().min(1),
  port: count(0, 65_535).default(8787),
  host: z.string().min(1).default('127.0.0.1'),
  'ttl-days': count(1, 3650).default(30),
  'ttl-seconds': count(1, 3650 * 86_400).optional(),
  'mailbox-quota': count(1, 100_000_000).default(50_000),
});

function parseCommandLine(): z.infer<typeof argsSchema> | 'help' {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'ttl-days': { type: 'string' },
      'ttl-seconds': { type: 'string' },
      'mailbox-quota': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  return argsSchema.parse(values);
}

function fail(message: string): never {
  process.stderr.write(`sotto-relay: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** A system error's code (EADDRINUSE, SQLITE_CANTOPEN…): says what failed without quoting data. */
function errorCode(error: unknown): string {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseCommandLine>;
  try {
    args = parseCommandLine();
  } catch (error) {
    fail(
      error instanceof z.ZodError
        ? z.prettifyError(error).replace(/\n/g, ' ')
        : error instanceof Error
          ? error.message
          : 'bad arguments',
    );
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return;
  }

  let storage: SqliteRelayStorage;
  try {
    storage = SqliteRelayStorage.open(args.data);
  } catch (error) {
    process.stderr.write(
      `sotto-relay: cannot open ${args.data}/${RELAY_DB_FILE} (${errorCode(error)})\n`,
    );
    process.exit(1);
  }
  const ttlMs =
    args['ttl-seconds'] !== undefined ? args['ttl-seconds'] * 1000 : args['ttl-days'] * 86_400_000;
  const relay = createRelayServer({ storage, ttlMs, mailboxQuota: args['mailbox-quota'] });
  let port: number;
  try {
    port = await relay.listen(args.port, args.host);
  } catch (error) {
    await storage.close();
    process.stderr.write(
      `sotto-relay: cannot listen on ${args.host}:${args.port} (${errorCode(error)})\n`,
    );
    process.exit(1);
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    relay
      .close()
      .then(() => storage.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const host = args.host.includes(':') ? `[${args.host}]` : args.host;
  console.log(`sotto-relay listening on ws://${host}:${port}${RELAY_PATH}`);
}

await main();
