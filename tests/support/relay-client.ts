import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, expect } from 'vitest';
import WebSocket from 'ws';
import {
  ACCOUNT_ID_DOMAIN,
  accountIdFromDigest,
  type AccountId,
} from '../../shared/protocol/account-id.ts';
import { fromBase64, toBase64 } from '../../shared/protocol/encoding.ts';
import {
  authMessage,
  type ClientFrame,
  DELIVERY_TOKEN_BYTES,
  RELAY_LIMITS,
  RELAY_PROTOCOL_VERSION,
  type ServerFrame,
  serverFrameSchema,
  type WireEnvelope,
} from '../../shared/relay/protocol.ts';
import { type RelayProcess, startRelayProcess } from './relay-process.ts';

// A raw relay client for tests: it speaks the wire protocol frame by frame
// (so tests can also speak it wrongly) and checks every relay frame against
// the protocol schema. Plus a relay process shared by the tests of a file.

const WAIT_MS = 15_000;
const ANSWER_TYPES: ReadonlySet<string> = new Set([
  'ok',
  'sent',
  'sent.multi',
  'bundle',
  'keys.status',
  'pong',
  'blob.created',
  'error',
]);

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request frame as a test writes it; the client assigns the id. */
export type RequestFrame = DistributiveOmit<Exclude<ClientFrame, { type: 'hello' | 'auth' }>, 'id'>;
type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh data directory for a relay, removed after the test file. */
export function relayDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sotto-relay-test-'));
  dirs.push(dir);
  return dir;
}

/** A device with its own libsignal identity. */
export interface TestDevice {
  readonly identity: IdentityKeyPair;
  readonly accountId: AccountId;
  readonly deviceId: number;
}

/** A new account (fresh identity key) and its device. */
export function newDevice(deviceId = 1): TestDevice {
  const identity = IdentityKeyPair.generate();
  return { identity, accountId: accountIdOf(identity), deviceId };
}

/** The account id of an identity key (docs/message-format.md#account-ids). */
export function accountIdOf(identity: IdentityKeyPair): AccountId {
  return accountIdFromDigest(
    createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(identity.publicKey.serialize()).digest(),
  );
}

/** How a socket ended. */
export interface Closed {
  readonly code: number;
  readonly reason: string;
}

type Waiter = {
  readonly match: (frame: ServerFrame) => boolean;
  readonly resolve: (frame: ServerFrame) => void;
  readonly reject: (error: Error) => void;
};

/** One WebSocket connection to a relay, frame by frame (account or anonymous, or neither). */
export class RelayTestClient {
  /** Every frame received, in order (consumed or not). */
  readonly history: ServerFrame[] = [];
  /** Frames from the relay that its own schema rejects (a relay bug). */
  readonly violations: string[] = [];
  readonly closed: Promise<Closed>;
  private readonly unread: ServerFrame[] = [];
  private readonly waiters: Waiter[] = [];
  private nextId = 1;
  private closedAs: Closed | undefined;

  private constructor(
    readonly socket: WebSocket,
    readonly nonce: Uint8Array<ArrayBuffer>,
    /** The relay id the challenge named. */
    readonly relayId: string,
  ) {
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => {
        this.closedAs = { code, reason: reason.toString() };
        for (const waiter of this.waiters.splice(0))
          waiter.reject(new Error(`connection closed (${code}) while waiting`));
        resolve(this.closedAs);
      }),
    );
    socket.on('message', (data, isBinary) => this.receive(textOf(data), isBinary));
  }

  /** Connects and waits for the relay's challenge. */
  static async connect(
    url: string,
    options: WebSocket.ClientOptions = {},
  ): Promise<RelayTestClient> {
    const socket = new WebSocket(url, { maxPayload: RELAY_LIMITS.maxFrameBytes, ...options });
    const challenge = await new Promise<string>((resolve, reject) => {
      socket.once('message', (data) => resolve(textOf(data)));
      socket.once('error', reject);
      socket.once('close', (code) => reject(new Error(`closed (${code}) before the challenge`)));
    });
    const frame = serverFrameSchema.parse(JSON.parse(challenge));
    if (frame.type !== 'challenge') throw new Error(`expected a challenge, got ${frame.type}`);
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    socket.on('error', () => undefined);
    return new RelayTestClient(socket, fromBase64(frame.nonce), frame.relayId);
  }

  /** Sends any JSON value as a text frame. */
  sendJson(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** The login signature of `device` over this connection's challenge (or another relay id). */
  signLogin(
    device: TestDevice,
    relayId: string = this.relayId,
    identity = device.identity,
  ): Uint8Array {
    return identity.privateKey.sign(
      authMessage(relayId, this.nonce, device.accountId, device.deviceId),
    );
  }

  /** Sends an account `hello` then `auth`, signed over this connection's challenge unless a signature is given. */
  sendAuth(
    device: TestDevice,
    signature?: Uint8Array,
    identity: IdentityKeyPair = device.identity,
  ): void {
    const signed = signature ?? this.signLogin(device, this.relayId, identity);
    this.sendJson({
      type: 'hello',
      protocol: RELAY_PROTOCOL_VERSION,
      mode: 'account',
      accountId: device.accountId,
      deviceId: device.deviceId,
    });
    this.sendJson({
      type: 'auth',
      identityKey: toBase64(identity.publicKey.serialize()),
      signature: toBase64(signed),
    });
  }

  /** Authenticates as `device` and returns the `ready` frame (rejects with the error code otherwise). */
  async authenticate(device: TestDevice): Promise<FrameOf<'ready'>> {
    this.sendAuth(device);
    const frame = await this.take(
      (f) => f.type === 'ready' || (f.type === 'error' && f.id === undefined),
    );
    if (frame.type !== 'ready')
      throw new Error(
        `authentication refused: ${frame.type === 'error' ? frame.code : frame.type}`,
      );
    return frame;
  }

  /** Sends an anonymous `hello` and returns the `ready` frame (rejects with the error code otherwise). */
  async anonymous(): Promise<FrameOf<'ready'>> {
    this.sendJson({ type: 'hello', protocol: RELAY_PROTOCOL_VERSION, mode: 'anonymous' });
    const frame = await this.take(
      (f) => f.type === 'ready' || (f.type === 'error' && f.id === undefined),
    );
    if (frame.type !== 'ready')
      throw new Error(
        `anonymous hello refused: ${frame.type === 'error' ? frame.code : frame.type}`,
      );
    return frame;
  }

  /** Sends a request with the next id and resolves with its answer (ok, sent, bundle, keys.status, pong or error). */
  async request(frame: RequestFrame): Promise<ServerFrame> {
    const id = this.nextId++;
    this.sendJson({ ...frame, id });
    return this.take((f) => ANSWER_TYPES.has(f.type) && 'id' in f && f.id === id);
  }

  /** Sends many requests at once (pipelined) and resolves with their answers in order. */
  async requests(frames: readonly RequestFrame[]): Promise<ServerFrame[]> {
    return Promise.all(frames.map((frame) => this.request(frame)));
  }

  /** The next unread frame of a type. */
  async next<T extends ServerFrame['type']>(type: T): Promise<FrameOf<T>> {
    return (await this.take((f) => f.type === type)) as FrameOf<T>;
  }

  /** Envelopes pushed to this connection, until `count` have arrived. */
  async envelopes(count: number): Promise<WireEnvelope[]> {
    const out: WireEnvelope[] = [];
    while (out.length < count) out.push(...(await this.next('envelopes')).envelopes);
    return out;
  }

  /** Closes normally and waits for the close handshake. */
  async close(): Promise<void> {
    if (this.closedAs === undefined) this.socket.close(1000);
    await this.closed;
  }

  /** The first unread frame matching, waiting for it if needed. */
  private take(match: (frame: ServerFrame) => boolean): Promise<ServerFrame> {
    if (this.violations.length > 0)
      return Promise.reject(new Error(`relay sent invalid frames: ${this.violations.join(' | ')}`));
    const index = this.unread.findIndex(match);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]!);
    if (this.closedAs)
      return Promise.reject(new Error(`connection closed (${this.closedAs.code})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('timed out waiting for a relay frame')),
        WAIT_MS,
      );
      this.waiters.push({
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  private receive(text: string, isBinary: boolean): void {
    const parsed = isBinary ? undefined : serverFrameSchema.safeParse(safeJson(text));
    if (!parsed?.success) {
      this.violations.push(text.slice(0, 200));
      return;
    }
    this.history.push(parsed.data);
    const index = this.waiters.findIndex((waiter) => waiter.match(parsed.data));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(parsed.data);
    else this.unread.push(parsed.data);
  }
}

function textOf(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Connects and logs in in one step. */
export async function connectAs(
  url: string,
  device: TestDevice,
  options: WebSocket.ClientOptions = {},
): Promise<{ client: RelayTestClient; ready: FrameOf<'ready'> }> {
  const client = await RelayTestClient.connect(url, options);
  return { client, ready: await client.authenticate(device) };
}

/** Connects and says `hello` anonymously in one step. */
export async function connectAnonymous(
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<RelayTestClient> {
  const client = await RelayTestClient.connect(url, options);
  await client.anonymous();
  return client;
}

/** A fresh delivery token (16 random bytes, base64). */
export function newToken(): string {
  return toBase64(randomBytes(DELIVERY_TOKEN_BYTES));
}

/**
 * A device logged in to its relay with a registered delivery token: what a
 * recipient looks like to senders.
 */
export async function registeredDevice(
  url: string,
  device: TestDevice = newDevice(),
  options: WebSocket.ClientOptions = {},
): Promise<{ device: TestDevice; client: RelayTestClient; token: string }> {
  const { client } = await connectAs(url, device, options);
  const token = newToken();
  const answer = await client.request({ type: 'token.set', token });
  if (answer.type !== 'ok') throw new Error(`token.set refused: ${JSON.stringify(answer)}`);
  return { device, client, token };
}

/**
 * One relay process shared by the tests of a file: started before the first,
 * stopped after the last, where a clean SIGTERM shutdown must exit 0.
 */
export function relayForFile(extraArgs: readonly string[] = []): {
  readonly url: string;
  readonly relayId: string;
  output(): string;
} {
  let relay: RelayProcess | undefined;
  beforeAll(async () => {
    relay = await startRelayProcess(relayDataDir(), { args: extraArgs });
  });
  afterAll(async () => {
    expect(await relay?.stop()).toBe(0);
  });
  const started = (): RelayProcess => {
    if (!relay) throw new Error('the relay starts in beforeAll');
    return relay;
  };
  return {
    get url(): string {
      return started().url;
    },
    get relayId(): string {
      return started().relayId;
    },
    output: () => started().output(),
  };
}
