import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { BLOB_PATH_PREFIX, TUS_PATCH_CONTENT_TYPE } from '../../../shared/relay/blobs.ts';
import {
  blobRequest,
  createBlob,
  createBlobAs,
  patch,
  tusHeaders,
  type CreatedBlob,
} from '../../support/blob-http.ts';
import { connectAs, newDevice, relayDataDir } from '../../support/relay-client.ts';
import { opsPortOf, startRelayProcess } from '../../support/relay-process.ts';
import { selfSigned } from '../../support/certificates.ts';

// Blobs from the operator's side (docs/relay-operations.md#blobs): metrics,
// configuration from file, environment and flags, the per-address budget, and
// the TLS relay serving blobs over https:// itself.

const metricsOf = async (port: number): Promise<string> =>
  await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

describe('blob operations', () => {
  it('/metrics counts blobs created and stored, bytes in and out and refusals, naming nobody', async () => {
    const relay = await startRelayProcess(relayDataDir(), {
      args: ['--ops-port', '0', '--max-blob-bytes', '5000'],
    });
    const ops = opsPortOf(relay);
    try {
      const device = newDevice();
      const { client } = await connectAs(relay.url, device);
      const blob = await createBlob(client, 4000);
      expect(await client.request({ type: 'blob.create', length: 5001 })).toMatchObject({
        code: 'RELAY_ERR_TOO_LARGE',
      });
      await client.close();
      expect((await patch(relay.port, blob, 0, randomBytes(4000))).status).toBe(204);
      expect((await patch(relay.port, blob, 0, randomBytes(1))).status).toBe(409);
      await blobRequest(relay.port, 'GET', blob.blobId, { headers: { range: 'bytes=1000-' } });
      const text = await metricsOf(ops);
      expect(text).toContain('sotto_relay_blobs_created_total 1');
      expect(text).toContain('sotto_relay_blobs_stored_total 1');
      expect(text).toContain('sotto_relay_blob_bytes_in_total 4000');
      expect(text).toContain('sotto_relay_blob_bytes_out_total 3000');
      expect(text).toContain('sotto_relay_blob_refusals_total{reason="too_large"} 1');
      expect(text).toContain('sotto_relay_blob_refusals_total{reason="offset"} 1');
      expect(text).toMatch(/sotto_relay_storage_seconds_count\{method="createBlob"\} 1/);
      for (const secret of [blob.blobId, blob.uploadToken, device.accountId, '127.0.0.1'])
        expect(text).not.toContain(secret);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('takes the blob directory from the config file, the cap from the environment and the quota from a flag', async () => {
    const dir = relayDataDir();
    const blobDir = join(dir, 'elsewhere');
    const config = join(dir, 'relay.json');
    writeFileSync(config, JSON.stringify({ 'blob-dir': blobDir, 'max-blob-bytes': 10 }));
    const relay = await startRelayProcess(join(dir, 'data'), {
      args: ['--config', config, '--blob-quota-bytes', '3000'],
      env: { SOTTO_RELAY_MAX_BLOB_BYTES: '2000' },
    });
    try {
      const { client } = await connectAs(relay.url, newDevice());
      await createBlob(client, 2000);
      expect(await client.request({ type: 'blob.create', length: 2001 })).toMatchObject({
        code: 'RELAY_ERR_TOO_LARGE',
      });
      expect(await client.request({ type: 'blob.create', length: 1001 })).toMatchObject({
        code: 'RELAY_ERR_BLOB_QUOTA',
      });
      await client.close();
      expect(readdirSync(blobDir)).toHaveLength(1);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('refuses blob requests over the per-address budget with 429 and Retry-After', async () => {
    const relay = await startRelayProcess(relayDataDir(), {
      args: ['--budget', 'address-blob-requests=3/0.01'],
    });
    try {
      const blob = await createBlobAs(relay.url, newDevice(), 10);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await blobRequest(relay.port, 'GET', blob.blobId)).status);
      expect(statuses).toEqual([404, 404, 404, 429]);
      const refused = await blobRequest(relay.port, 'GET', blob.blobId);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('counts over-quota creates against the connection refusal budget: a hammering client is paused', async () => {
    const relay = await startRelayProcess(relayDataDir(), {
      args: ['--blob-quota-bytes', '10', '--budget', 'connection-refusals=2/2'],
    });
    try {
      const { client } = await connectAs(relay.url, newDevice());
      const answeredAt: number[] = [];
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          client.request({ type: 'blob.create', length: 11 }).then((answer) => {
            answeredAt.push(performance.now());
            return answer;
          }),
        ),
      );
      expect(answers.every((a) => a.type === 'error' && a.code === 'RELAY_ERR_BLOB_QUOTA')).toBe(
        true,
      );
      // Over a budget of 2: after the third refusal the relay stops reading for ~500 ms or more.
      expect(answeredAt[3]! - answeredAt[2]!).toBeGreaterThanOrEqual(350);
      await client.close();
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('serves blobs over https:// on a TLS relay', async () => {
    const dir = relayDataDir();
    const certificate = selfSigned(dir, 'blobs');
    const relay = await startRelayProcess(join(dir, 'data'), {
      args: ['--tls-cert', certificate.cert, '--tls-key', certificate.key],
    });
    try {
      const { client } = await connectAs(relay.url, newDevice(), { ca: certificate.pem });
      const blob = await createBlob(client, 5000);
      await client.close();
      const bytes = randomBytes(5000);
      const tls = (
        method: string,
        created: CreatedBlob,
        headers: Record<string, string>,
        body?: Buffer,
      ) =>
        new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
          const request = httpsRequest(
            {
              host: '127.0.0.1',
              port: relay.port,
              method,
              path: `${BLOB_PATH_PREFIX}${created.blobId}`,
              headers,
              ca: certificate.pem,
            },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
              );
            },
          );
          request.on('error', reject);
          request.end(body);
        });
      const uploaded = await tls(
        'PATCH',
        blob,
        tusHeaders(blob.uploadToken, {
          'upload-offset': '0',
          'content-type': TUS_PATCH_CONTENT_TYPE,
        }),
        bytes,
      );
      expect(uploaded.status).toBe(204);
      const downloaded = await tls('GET', blob, {});
      expect(downloaded.status).toBe(200);
      expect(downloaded.body.equals(bytes)).toBe(true);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});
