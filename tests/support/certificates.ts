import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Self-signed certificates for the wss:// tests, made with the openssl CLI
// (.ci/run installs it). Must not import vitest (the bench may use it).

/** A fresh self-signed certificate for 127.0.0.1 (openssl), written as cert.pem/key.pem in `dir`. */
export function selfSigned(dir: string, name: string): { cert: string; key: string; pem: Buffer } {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key, pem: readFileSync(cert) };
}
