/**
 * Hot-path pieces measured one by one in this process (CPU per call, after a warm-up): what a
 * login pays for drawing its QR, rendering the page, checking cookies, signing the ID token and
 * deriving the openid. Run before the servers start, so nothing else shares the process.
 */
import { generateKeyPair, SignJWT } from 'jose';
import type { Request } from 'express';
import { nanoid } from 'nanoid';
import { openid } from '../provider/src/accounts/identifiers.js';
import { cookieSigner } from '../provider/src/oidc/cookie-keys.js';
import { createQrImages } from '../provider/src/login/images.js';
import { renderQrPage } from '../provider/src/oidc/qr-page.js';
import { createMemoryStore } from '../provider/src/storage/ephemeral.memory.js';

export interface HotPath {
  name: string;
  microsecondsPerCall: number;
}

async function cpuPerCall(calls: number, fn: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < Math.min(200, calls); i++) await fn(i); // warm the JIT
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn(i);
  const used = process.cpuUsage(start);
  return Math.round(((used.user + used.system) / calls) * 10) / 10;
}

export async function hotPaths(): Promise<HotPath[]> {
  const issuer = 'https://login.example.com';
  const store = createMemoryStore();
  const images = createQrImages(issuer, store, { cacheSize: 10 });
  const qrIds = Array.from({ length: 3000 }, () => nanoid(24));
  const svg = await images.svgOf(nanoid(24));
  const req = {
    query: {},
    url: '/interaction/abc',
    originalUrl: '/interaction/abc',
    get: () => undefined,
    acceptsLanguages: () => 'en',
  } as unknown as Request;
  const signer = cookieSigner(['first-key-0123456789abcdef', 'older-key-0123456789abcdef']);
  const cookie = `_interaction=${nanoid(21)}; path=/interaction/abc; httponly`;
  const digest = signer.sign(cookie);
  const { privateKey } = await generateKeyPair('ES256');
  try {
    return [
      { name: 'QR SVG drawn (qrcode, once per QR)', microsecondsPerCall: await cpuPerCall(2000, (i) => images.svgOf(qrIds[i % qrIds.length])) },
      {
        name: 'QR page rendered (HTML around the SVG)',
        microsecondsPerCall: await cpuPerCall(5000, () =>
          renderQrPage({
            req,
            uid: 'abc',
            app: { name: 'Demo Site', logoUrl: null, homepage: 'https://site.example' },
            snapshot: { qrId: 'q', status: 'pending', expiresAt: Date.now() + 60_000 },
            payload: `${issuer}/q/q`,
            svg,
            serverNow: Date.now(),
          }),
        ),
      },
      { name: 'signed cookie checked', microsecondsPerCall: await cpuPerCall(20000, () => signer.verify(cookie, digest)) },
      {
        name: 'ID token signed (ES256)',
        microsecondsPerCall: await cpuPerCall(2000, () =>
          new SignJWT({ sub: 'o123', nonce: 'n' }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().setExpirationTime('1h').sign(privateKey),
        ),
      },
      {
        name: 'openid derived (HMAC-SHA256)',
        microsecondsPerCall: await cpuPerCall(20000, (i) => openid('identifier-secret-0123456789', 'wx0123456789abcdef', `usr_${i}`)),
      },
    ];
  } finally {
    await store.close();
  }
}

export function hotPathsTable(rows: HotPath[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  return ['hot paths (CPU per call in one process, µs)', ...rows.map((r) => `  ${r.name.padEnd(width)}  ${String(r.microsecondsPerCall).padStart(7)}`)].join(
    '\n',
  );
}
