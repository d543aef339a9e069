import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

// Whole small objects (manifests, tails) of the S3 blob store, and how it
// tells an S3 error's kind: by HTTP status and error name, never by message.

/** The HTTP status of an S3 SDK error, if it has one. */
export function status(error: unknown): number | undefined {
  const metadata: unknown = error instanceof Error ? Reflect.get(error, '$metadata') : undefined;
  const code: unknown =
    typeof metadata === 'object' && metadata !== null
      ? Reflect.get(metadata, 'httpStatusCode')
      : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** The error says the object or upload does not exist (gone is an answer, not a failure). */
export function absent(error: unknown): boolean {
  const name = error instanceof Error ? error.name : '';
  return status(error) === 404 || name === 'NoSuchKey' || name === 'NoSuchUpload';
}

/** Get, put and delete of whole small objects in one bucket. */
export class S3Objects {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /** The object's bytes, or undefined if there is none. */
  async get(key: string): Promise<Buffer | undefined> {
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return got.Body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(await got.Body.transformToByteArray());
    } catch (error) {
      if (absent(error)) return undefined;
      throw error;
    }
  }

  /** Writes (replaces) the object whole: readers see the old or the new bytes, never a mix. */
  async put(key: string, bytes: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
      }),
    );
  }

  /** Deletes the object; one already gone is fine. */
  async remove(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (!absent(error)) throw error;
    }
  }
}
