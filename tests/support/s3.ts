import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

// A local S3-compatible server (s3rver, in this process) over a real socket,
// for the relay's S3 blob store (relay/blobs/s3-store.ts). s3rver accepts any
// credentials; these are passed the standard way (AWS_* variables) to relays.

/** The only credentials s3rver accepts: relays get them as the standard AWS_* variables. */
export const TEST_S3_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
} as const;

/** A running s3rver with one bucket. */
export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** A client of the same server, to look at (or damage) the objects. */
  readonly client: S3Client;
  /** The relay's flags for this bucket. */
  readonly relayArgs: readonly string[];
  /** Every object key in the bucket. */
  keys(): Promise<string[]>;
  /** Stops the server, keeping its files: requests fail until `resume`. */
  pause(): Promise<void>;
  /** Starts it again on the same port over the same files. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts s3rver on a free loopback port with an empty bucket. */
export async function startTestS3(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'sotto-s3-'));
  let server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  let running = true;
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = 'sotto-blobs';
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: TEST_S3_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: TEST_S3_ENV.AWS_SECRET_ACCESS_KEY,
    },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    client,
    relayArgs: ['--blob-s3-endpoint', endpoint, '--blob-s3-bucket', bucket, '--blob-s3-path-style'],
    async keys() {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
    },
    async pause() {
      await server.close();
      running = false;
    },
    async resume() {
      server = new S3rver({ port, address: '127.0.0.1', silent: true, directory });
      await server.run();
      running = true;
    },
    async stop() {
      client.destroy();
      if (running) await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
