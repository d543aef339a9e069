import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MAX_BLOB_BYTES } from '../shared/protocol/attachment.ts';
import { DEFAULT_BUDGETS, type RelayBudgetSpecs } from './options.ts';
import type { BucketSpec } from './token-bucket.ts';

// The relay's command line, parsed with a schema like every other boundary.

const BUDGET_FLAGS: Readonly<Record<string, keyof RelayBudgetSpecs>> = {
  'destination-messages': 'destinationMessages',
  'destination-bytes': 'destinationBytes',
  'address-sends': 'addressSends',
  'address-bytes': 'addressBytes',
  'connection-sends': 'connectionSends',
  'connection-bytes': 'connectionBytes',
  'connection-refusals': 'connectionRefusals',
  'address-fetches': 'addressFetches',
  'device-fetches': 'deviceFetches',
  'account-blob-creates': 'accountBlobCreates',
  'address-blob-requests': 'addressBlobRequests',
};

const budgetLines = Object.entries(BUDGET_FLAGS)
  .map(([flag, key]) => {
    const { burst, perSecond } = DEFAULT_BUDGETS[key];
    return `                         ${flag}=${burst}/${Number(perSecond.toFixed(4))}`;
  })
  .join('\n');

/** `sotto-relay --help`. */
export const USAGE = `Usage: sotto-relay --data DIR [options]
       sotto-relay --database postgres://USER@HOST/DB [options]

Runs a Sotto relay, protocol 2 (docs/relay-protocol.md): WebSocket at ws://HOST:PORT/v2
(wss:// with --tls-cert and --tls-key).

Options:
  --data DIR             where relay.db lives (created if missing, mode 0700): the embedded
                         SQLite store, for a relay of one process
  --database URL         a PostgreSQL database shared by every node of a relay (also
                         SOTTO_RELAY_DATABASE_URL): docs/relay-operations.md
  --port N               TCP port, 0 picks a free one (default 8787)
  --host ADDR            address to bind (default 127.0.0.1)
  --tls-cert FILE        PEM certificate chain: serve wss:// (reloaded on SIGHUP)
  --tls-key FILE         PEM private key for --tls-cert (reloaded on SIGHUP)
  --trust-proxy          behind a reverse proxy on this machine: take the client address
                         from X-Forwarded-For when the peer is loopback
  --ttl-days N           delete envelopes left unacked this long (default 30)
  --mailbox-quota N      envelopes per mailbox before sends are refused (default 50000)
  --max-storage-mb N     envelope bytes the relay holds in all (default 1024)
  --max-connections-per-address N   open sockets per client address (default 200)
  --max-connections-per-account N   logged-in connections per account (default 5)
  --max-frames-per-second N         frames per connection per second (default 500)
  --handshake-timeout-ms N          upgrade to ready (default 10000)
  --upgrade-timeout-ms N            TCP connection to complete upgrade request (default 5000)
  --blob-dir DIR         where attachment blobs live (default DATA/blobs with --data; without
                         it a --database node serves no blobs): docs/relay-operations.md#blobs
  --blob-s3-bucket NAME  keep blobs in this S3-compatible bucket instead of a directory (nodes
                         that share no disk; not with --blob-dir): docs/relay-operations.md#blobs
  --blob-s3-endpoint URL the S3-compatible server (default: AWS S3 of --blob-s3-region)
  --blob-s3-region NAME  the bucket's region (default us-east-1)
  --blob-s3-path-style   address the bucket as ENDPOINT/BUCKET (most S3-compatible servers);
                         credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the
                         SDK's usual chain), or blob-s3-access-key-id and
                         blob-s3-secret-access-key in the --config file (never as flags)
  --max-blob-bytes N     largest blob accepted (default ${MAX_BLOB_BYTES}: a 100 MiB attachment)
  --blob-quota-bytes N   declared bytes of unexpired blobs per account (default 1073741824)
  --blob-idle-timeout-ms N          a blob request's socket may be idle this long (default 30000)
  --budget NAME=BURST/PER_SECOND    replace one token-bucket budget (repeatable); defaults:
${budgetLines}
  --store-gather-ms N    with --database: right after a store call ended, the next waits up to
                         N ms for more stores while few wait (default 8; 0: never):
                         docs/relay-operations.md#gathering-stores
  --ops-port N           serve GET /healthz and GET /metrics (Prometheus) on this port
  --ops-host ADDR        address of the operations port (default 127.0.0.1)
  --drain-seconds N      on SIGTERM, answer /healthz 503 this long before closing
                         connections, so a load balancer moves clients first (default 0)
  --config FILE          a JSON object of these options by long name (e.g. {"port": 8787});
                         SOTTO_RELAY_<NAME> variables override it, and flags override both
  --ttl-seconds N        for testing only: the envelope lifetime in seconds (overrides --ttl-days)
  -h, --help             print this help and exit

Logs go to stderr as JSON lines; SOTTO_RELAY_LOG=debug|info|warn|error|off (default warn).
`;

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const budgetSchema = z
  .string()
  .regex(/^[a-z-]+=\d+(\.\d+)?\/\d+(\.\d+)?$/, 'a budget is NAME=BURST/PER_SECOND')
  .transform((text, ctx): [keyof RelayBudgetSpecs, BucketSpec] | typeof z.NEVER => {
    const [name = '', spec = ''] = text.split('=');
    const key = BUDGET_FLAGS[name];
    const [burst, perSecond] = spec.split('/').map(Number);
    if (key === undefined || burst === undefined || perSecond === undefined || burst < 1) {
      ctx.addIssue({ code: 'custom', message: `unknown budget or empty burst: ${name}` });
      return z.NEVER;
    }
    return [key, { burst, perSecond }];
  });

const argsSchema = z
  .object({
    data: z.string().min(1).optional(),
    database: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'the database is a postgres:// URL')
      .optional(),
    port: count(0, 65_535).default(8787),
    host: z.string().min(1).default('127.0.0.1'),
    'tls-cert': z.string().min(1).optional(),
    'tls-key': z.string().min(1).optional(),
    'trust-proxy': z.boolean().default(false),
    'ttl-days': count(1, 3650).default(30),
    'ttl-seconds': count(1, 3650 * 86_400).optional(),
    'mailbox-quota': count(1, 100_000_000).default(50_000),
    'max-storage-mb': count(1, 1 << 30).default(1024),
    'max-connections-per-address': count(1, 1_000_000).default(200),
    'max-connections-per-account': count(1, 10_000).default(5),
    'max-frames-per-second': count(1, 1_000_000).default(500),
    'handshake-timeout-ms': count(100, 600_000).default(10_000),
    'upgrade-timeout-ms': count(100, 600_000).default(5_000),
    'blob-dir': z.string().min(1).optional(),
    'blob-s3-bucket': z.string().min(3).max(63).optional(),
    'blob-s3-endpoint': z.url({ protocol: /^https?$/ }).optional(),
    'blob-s3-region': z.string().min(1).max(64).default('us-east-1'),
    // A flag or JSON true; "true"/"false" from SOTTO_RELAY_BLOB_S3_PATH_STYLE.
    'blob-s3-path-style': z
      .union([z.boolean(), z.enum(['true', 'false']).transform((text) => text === 'true')])
      .default(false),
    // The --config file only: a secret on the command line is visible to every local user (ps).
    'blob-s3-access-key-id': z.string().min(1).optional(),
    'blob-s3-secret-access-key': z.string().min(1).optional(),
    'max-blob-bytes': count(1, Number.MAX_SAFE_INTEGER).default(MAX_BLOB_BYTES),
    'blob-quota-bytes': count(1, Number.MAX_SAFE_INTEGER).default(1024 * 1024 * 1024),
    'blob-idle-timeout-ms': count(100, 600_000).default(30_000),
    budget: z.array(budgetSchema).default([]),
    'store-gather-ms': count(0, 100).default(8),
    'ops-port': count(0, 65_535).optional(),
    'ops-host': z.string().min(1).default('127.0.0.1'),
    'drain-seconds': count(0, 3600).default(0),
  })
  .refine((args) => (args['tls-cert'] === undefined) === (args['tls-key'] === undefined), {
    message: '--tls-cert and --tls-key go together',
  })
  .refine((args) => (args.data === undefined) !== (args.database === undefined), {
    message: 'give one store: --data DIR or --database URL',
  })
  .refine((args) => args['blob-dir'] === undefined || args['blob-s3-bucket'] === undefined, {
    message: 'give one blob store: --blob-dir DIR or --blob-s3-bucket NAME',
  })
  .refine(
    (args) =>
      args['blob-s3-bucket'] !== undefined ||
      (args['blob-s3-endpoint'] === undefined &&
        args['blob-s3-access-key-id'] === undefined &&
        !args['blob-s3-path-style']),
    { message: 'the --blob-s3-* settings need --blob-s3-bucket' },
  )
  .refine(
    (args) =>
      (args['blob-s3-access-key-id'] === undefined) ===
      (args['blob-s3-secret-access-key'] === undefined),
    { message: 'blob-s3-access-key-id and blob-s3-secret-access-key go together' },
  );

/** The parsed command line. */
export type RelayArgs = z.infer<typeof argsSchema>;

/** Parses `process.argv`; 'help' for -h. Throws ZodError or parseArgs' TypeError on bad input. */
export function parseCommandLine(): RelayArgs | 'help' {
  const text = { type: 'string' } as const;
  const { values } = parseArgs({
    options: {
      data: text,
      database: text,
      port: text,
      host: text,
      'tls-cert': text,
      'tls-key': text,
      'trust-proxy': { type: 'boolean' },
      'ttl-days': text,
      'ttl-seconds': text,
      'mailbox-quota': text,
      'max-storage-mb': text,
      'max-connections-per-address': text,
      'max-connections-per-account': text,
      'max-frames-per-second': text,
      'handshake-timeout-ms': text,
      'upgrade-timeout-ms': text,
      'blob-dir': text,
      'blob-s3-bucket': text,
      'blob-s3-endpoint': text,
      'blob-s3-region': text,
      'blob-s3-path-style': { type: 'boolean' },
      'max-blob-bytes': text,
      'blob-quota-bytes': text,
      'blob-idle-timeout-ms': text,
      budget: { type: 'string', multiple: true },
      'store-gather-ms': text,
      'ops-port': text,
      'ops-host': text,
      'drain-seconds': text,
      config: text,
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const { config, ...flags } = values;
  const merged = { ...configFile(config), ...environment(Object.keys(argsSchema.shape)), ...flags };
  // One store only: a --data flag beats a database URL from the environment or the file.
  if (flags.data !== undefined && flags.database === undefined) delete merged.database;
  return argsSchema.parse(merged);
}

const configSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]),
);

/** The options of a --config file (a JSON object by long option name); values become flag text. */
function configFile(path: string | undefined): Record<string, unknown> {
  if (path === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // Not the parser's message: it may quote the file, and the file may hold a password.
    throw new Error('the --config file cannot be read as JSON');
  }
  const parsed = configSchema.parse(json);
  return Object.fromEntries(
    Object.entries(parsed).map(([key, value]) => [
      key,
      typeof value === 'number' ? String(value) : value,
    ]),
  );
}

// File or flag only: lists, a flag, and S3 keys (AWS_ACCESS_KEY_ID... are their variables).
const NOT_IN_ENVIRONMENT = new Set([
  'budget',
  'trust-proxy',
  'blob-s3-access-key-id',
  'blob-s3-secret-access-key',
]);

/** SOTTO_RELAY_<NAME> for each option (SOTTO_RELAY_DATABASE_URL for --database) but NOT_IN_ENVIRONMENT. */
function environment(names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    if (NOT_IN_ENVIRONMENT.has(name)) continue;
    const variable = `SOTTO_RELAY_${name === 'database' ? 'DATABASE_URL' : name.toUpperCase().replace(/-/g, '_')}`;
    const value = process.env[variable];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

/** The budgets the command line replaces. */
export function budgetsOf(args: RelayArgs): Partial<RelayBudgetSpecs> {
  return Object.fromEntries(args.budget);
}
