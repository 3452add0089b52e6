import { createLocalJWKSet, createRemoteJWKSet, customFetch, type FetchImplementation, type JWTVerifyGetKey } from 'jose';
import type { SourceRecord } from './sources.js';

/**
 * The most a JWKS response may weigh. A key set is a few kilobytes (a dozen RSA keys ~ 10 KB);
 * without a bound, a source's server (misconfigured, or taken over) could make every instance
 * hold whatever it sends in memory.
 */
export const MAX_JWKS_BYTES = 256 * 1024;

/** fetch, refusing a response larger than MAX_JWKS_BYTES (by its Content-Length, or as it streams). */
const boundedFetch: FetchImplementation = async (url, options) => {
  const res = await fetch(url, options);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_JWKS_BYTES) {
    await res.body?.cancel();
    throw new Error(`the JWKS at ${url} is ${declared} bytes, over the ${MAX_JWKS_BYTES} allowed`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_JWKS_BYTES) throw new Error(`the JWKS at ${url} is over the ${MAX_JWKS_BYTES} bytes allowed`);
    chunks.push(chunk);
  }
  return new Response(Buffer.concat(chunks), { status: res.status, statusText: res.statusText, headers: res.headers });
};

/** Remote key sets: refetched when an unknown kid arrives (key rotation), at most every 30 s. */
const REMOTE = { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, [customFetch]: boundedFetch };

/**
 * The keys that verify a source's assertions: its JWKS URL through jose's cached remote set,
 * or its inline public keys. One resolver per source version, so an edit (new keys, another
 * URL) takes effect with the source's cache invalidation and a fetched set is reused otherwise.
 */
export function createKeySets() {
  const sets = new Map<string, { version: string; get: JWTVerifyGetKey }>();
  return {
    of(source: SourceRecord): JWTVerifyGetKey {
      const hit = sets.get(source.id);
      if (hit?.version === source.version) return hit.get;
      const get = source.jwksUrl ? createRemoteJWKSet(new URL(source.jwksUrl), REMOTE) : createLocalJWKSet(source.jwks ?? { keys: [] });
      sets.set(source.id, { version: source.version, get });
      return get;
    },
  };
}
