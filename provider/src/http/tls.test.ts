import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, schemeOf } from './tls.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('createServer: HTTPS from TLS_CERT_FILE/TLS_KEY_FILE, HTTP without', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-tls-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const hello = (_req: unknown, res: { end(s: string): void }) => res.end('hello');

  it('serves plain HTTP when neither file is set', () => {
    const server = createServer(hello, {});
    expect(server).not.toBeInstanceOf(https.Server);
    expect(schemeOf({})).toBe('http');
  });

  it('refuses half a TLS configuration instead of silently serving HTTP', () => {
    expect(() => createServer(hello, { certFile: '/x.pem' })).toThrow(/both TLS_CERT_FILE and TLS_KEY_FILE/);
    expect(() => createServer(hello, { keyFile: '/x.pem' })).toThrow(/both/);
  });

  it('names the unreadable file', () => {
    expect(() => createServer(hello, { certFile: path.join(dir, 'missing.pem'), keyFile: path.join(dir, 'missing.key') })).toThrow(
      /TLS_CERT_FILE .*missing\.pem/,
    );
  });

  it.skipIf(!hasOpenssl)('answers over HTTPS with the given self-signed certificate', async () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const server = createServer(hello, { certFile: cert, keyFile: key });
    expect(server).toBeInstanceOf(https.Server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: '/', ca: fs.readFileSync(cert), servername: 'localhost' }, (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8'))).on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      expect(body).toBe('hello');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
