import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';

export interface TlsOptions {
  /** PEM certificate (chain) file: TLS_CERT_FILE. */
  certFile?: string;
  /** PEM private key file: TLS_KEY_FILE. */
  keyFile?: string;
}

/**
 * HTTPS when a certificate and key are given, plain HTTP otherwise. Phones only open the camera
 * in a secure context, so trying the phone app on a LAN needs one of: these two files (e.g. a
 * self-signed certificate for the machine's LAN IP), or a TLS proxy in front with TRUST_PROXY=1.
 * Half a configuration is an error, not a silent fallback to HTTP.
 */
export function createServer(app: RequestListener, opts: TlsOptions = {}): http.Server | https.Server {
  const { certFile, keyFile } = opts;
  if (!certFile && !keyFile) return http.createServer(app);
  if (!certFile || !keyFile) throw new Error('TLS needs both TLS_CERT_FILE and TLS_KEY_FILE (or neither, for plain HTTP).');
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`Cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return https.createServer({ cert: read(certFile, 'TLS_CERT_FILE'), key: read(keyFile, 'TLS_KEY_FILE') }, app);
}

/** `https` or `http`, for the URL a server started with these options answers on. */
export const schemeOf = (opts: TlsOptions): 'https' | 'http' => (opts.certFile && opts.keyFile ? 'https' : 'http');
