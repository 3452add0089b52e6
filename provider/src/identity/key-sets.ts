import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { boundedFetch } from './bounded-fetch.js';
import type { SourceRecord } from './sources.js';

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
