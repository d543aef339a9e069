import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

/** A `sotto-relay` child process on a loopback port. */
export interface RelayProcess {
  readonly url: string;
  readonly port: number;
  readonly output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the real relay CLI (`bin/sotto-relay.js`) on `port` (0: any free port). */
export async function startRelayProcess(dataDir: string, port = 0, extraArgs: string[] = []): Promise<RelayProcess> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [join(process.cwd(), 'bin/sotto-relay.js'), '--port', String(port), '--data', dataDir, '--host', '127.0.0.1', ...extraArgs],
    { stdio: 'pipe' },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (ws:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`relay exited (${code}): ${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    port: Number(new URL(url).port),
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
