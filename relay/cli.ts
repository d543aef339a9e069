import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { budgetsOf, parseCommandLine, USAGE, type RelayArgs } from './cli-args.ts';
import type { BlobStore } from './blobs/store.ts';
import type { OpsServer } from './ops-server.ts';
import type { RelayStorage } from './storage.ts';

// `sotto-relay`: the reference relay as a process. Prints exactly one line on
// stdout once listening (scripts and tests parse it: the URL and the relay
// id); shuts down cleanly on SIGTERM or SIGINT, exiting 0 once sockets and
// the database are closed; SIGHUP re-reads the TLS files. The server, storage
// and log modules are imported once the arguments are good: `--help` and
// argument errors load none of them (docs/architecture.md#build).

function fail(message: string): never {
  process.stderr.write(`sotto-relay: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** A system error's code (EADDRINUSE, SQLITE_CANTOPEN…): says what failed without quoting data. */
function errorCode(error: unknown): string {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'error';
}

function readTls(args: RelayArgs): { key: Buffer; cert: Buffer } | undefined {
  const [cert, key] = [args['tls-cert'], args['tls-key']];
  return cert === undefined || key === undefined
    ? undefined
    : { cert: readFileSync(cert), key: readFileSync(key) };
}

/** The shared PostgreSQL store; exits 1 (saying only what failed, never the URL: it may hold a password). */
async function openDatabase(url: string, storeGatherMs: number): Promise<RelayStorage> {
  const [{ PostgresRelayStorage }, { NewerRelayDataError }] = await Promise.all([
    import('./postgres/storage.ts'),
    import('./sqlite-schema.ts'),
  ]);
  try {
    return await PostgresRelayStorage.open(url, { storeGatherMs });
  } catch (error) {
    process.stderr.write(
      error instanceof NewerRelayDataError
        ? 'sotto-relay: the database was migrated by a newer relay; upgrade this node\n'
        : `sotto-relay: cannot open the database (${errorCode(error)})\n`,
    );
    process.exit(1);
  }
}

async function openStorage(dataDir: string): Promise<RelayStorage> {
  const [{ WorkerRelayStorage }, { ProtocolOneDataError }, { RELAY_DB_FILE }] = await Promise.all([
    import('./worker-storage.ts'),
    import('./sqlite-schema.ts'),
    import('./sqlite-storage.ts'),
  ]);
  try {
    return await WorkerRelayStorage.open(dataDir);
  } catch (error) {
    if (error instanceof ProtocolOneDataError) {
      process.stderr.write(
        `sotto-relay: ${dataDir}/${RELAY_DB_FILE} belongs to a protocol-1 relay. Protocol-2 clients ` +
          `cannot read its envelopes (they are not sealed), so it is not converted. Move the data ` +
          `directory aside (e.g. mv ${dataDir} ${dataDir}.v1) and start with an empty one; users ` +
          `share new invites.\n`,
      );
      process.exit(2);
    }
    process.stderr.write(
      `sotto-relay: cannot open ${dataDir}/${RELAY_DB_FILE} (${errorCode(error)})\n`,
    );
    process.exit(1);
  }
}

/** The S3 bucket (--blob-s3-*); exits 1, naming only the error, if it cannot be reached. */
async function openS3Blobs(args: RelayArgs, bucket: string): Promise<BlobStore> {
  // Loaded only here: the AWS SDK is large (and warns about old Node versions at import).
  const { S3BlobStore } = await import('./blobs/s3-store.ts');
  const [accessKeyId, secretAccessKey] = [
    args['blob-s3-access-key-id'],
    args['blob-s3-secret-access-key'],
  ];
  try {
    return await S3BlobStore.open({
      bucket,
      region: args['blob-s3-region'],
      pathStyle: args['blob-s3-path-style'],
      ...(args['blob-s3-endpoint'] === undefined ? {} : { endpoint: args['blob-s3-endpoint'] }),
      ...(accessKeyId === undefined || secretAccessKey === undefined
        ? {}
        : { credentials: { accessKeyId, secretAccessKey } }),
    });
  } catch (error) {
    // The SDK's error names (NotFound, CredentialsProviderError…) carry no secret; messages might.
    const name = error instanceof Error ? error.name : 'error';
    process.stderr.write(
      `sotto-relay: cannot reach the S3 bucket (${errorCode(error) === 'error' ? name : errorCode(error)})\n`,
    );
    process.exit(1);
  }
}

/** The blob store: --blob-s3-bucket, else the directory --blob-dir or DATA/blobs; exits 1 if it cannot be opened. */
async function openBlobs(args: RelayArgs): Promise<BlobStore | undefined> {
  const bucket = args['blob-s3-bucket'];
  if (bucket !== undefined) return openS3Blobs(args, bucket);
  const dir = args['blob-dir'] ?? (args.data === undefined ? undefined : join(args.data, 'blobs'));
  if (dir === undefined) return undefined;
  const { FileBlobStore } = await import('./blobs/fs-store.ts');
  try {
    return await FileBlobStore.open(dir);
  } catch (error) {
    process.stderr.write(`sotto-relay: cannot open the blob directory (${errorCode(error)})\n`);
    process.exit(1);
  }
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
  // Whatever the relay creates (database, WAL, SHM) is readable by its user only.
  process.umask(0o077);
  let tls: ReturnType<typeof readTls>;
  try {
    tls = readTls(args);
  } catch (error) {
    fail(`cannot read the TLS certificate or key (${errorCode(error)})`);
  }

  const blobStore = await openBlobs(args);
  const storage =
    args.database !== undefined
      ? await openDatabase(args.database, args['store-gather-ms'])
      : await openStorage(args.data ?? '');
  const [{ RELAY_PATH, createRelayServer }, { log }, { instrumentStorage }, { metrics }] =
    await Promise.all([
      import('./server.ts'),
      import('./log.ts'),
      import('./instrumented-storage.ts'),
      import('./metrics.ts'),
    ]);
  const ttlMs =
    args['ttl-seconds'] !== undefined ? args['ttl-seconds'] * 1000 : args['ttl-days'] * 86_400_000;
  const relay = createRelayServer({
    storage: instrumentStorage(storage),
    ttlMs,
    mailboxQuota: args['mailbox-quota'],
    maxStorageBytes: args['max-storage-mb'] * 1024 * 1024,
    maxConnectionsPerAddress: args['max-connections-per-address'],
    maxConnectionsPerAccount: args['max-connections-per-account'],
    maxFramesPerSecond: args['max-frames-per-second'],
    handshakeTimeoutMs: args['handshake-timeout-ms'],
    upgradeTimeoutMs: args['upgrade-timeout-ms'],
    budgets: budgetsOf(args),
    trustProxy: args['trust-proxy'],
    maxBlobBytes: args['max-blob-bytes'],
    blobQuotaBytes: args['blob-quota-bytes'],
    blobIdleTimeoutMs: args['blob-idle-timeout-ms'],
    ...(blobStore === undefined ? {} : { blobStore }),
    ...(tls === undefined ? {} : { tls }),
  });
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

  let ops: OpsServer | undefined;
  const opsPort = args['ops-port'];
  if (opsPort !== undefined) {
    const { startOpsServer } = await import('./ops-server.ts');
    try {
      ops = await startOpsServer(opsPort, args['ops-host'], () => relay.pushesInFlight());
    } catch (error) {
      await relay.close();
      await storage.close();
      process.stderr.write(
        `sotto-relay: cannot listen on ${args['ops-host']}:${opsPort} (${errorCode(error)})\n`,
      );
      process.exit(1);
    }
  }

  // Drain: /healthz turns 503 first (the load balancer stops sending new
  // clients), then new upgrades are refused and every connection closes with
  // 1001 once its request in progress is answered (an accepted send is
  // committed); clients reconnect, through the balancer, to another node.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    metrics.draining = true;
    log.warn('relay.draining', { seconds: args['drain-seconds'] });
    new Promise((resolve) => setTimeout(resolve, args['drain-seconds'] * 1000))
      .then(() => relay.close())
      .then(() => storage.close())
      .then(() => ops?.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // New certificates (e.g. after a renewal) for new connections; open ones keep theirs.
  process.on('SIGHUP', () => {
    try {
      const fresh = readTls(args);
      if (fresh === undefined) return;
      relay.reloadTls(fresh);
      log.warn('tls.reloaded');
    } catch {
      log.error('tls.reload_failed');
    }
  });
  const host = args.host.includes(':') ? `[${args.host}]` : args.host;
  const scheme = tls === undefined ? 'ws' : 'wss';
  // The operations line comes first: whoever waits for the listening line
  // (a supervisor, the tests) has both ports then, also when --ops-port 0
  // let the kernel choose one.
  if (ops !== undefined) {
    const opsHost = args['ops-host'].includes(':') ? `[${args['ops-host']}]` : args['ops-host'];
    process.stdout.write(`sotto-relay operations on http://${opsHost}:${ops.port}\n`);
  }
  process.stdout.write(
    `sotto-relay listening on ${scheme}://${host}:${port}${RELAY_PATH} relay-id ${storage.relayId}\n`,
  );
}

await main();
