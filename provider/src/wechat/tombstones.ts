import { createHash } from 'node:crypto';
import type { EphemeralStore } from '../storage/ephemeral.js';

/**
 * What the WeChat API must still know about a code or access token after the store forgot it.
 *
 * Codes and access tokens live in the ephemeral store with their exact TTL, so the moment one
 * expires its key is gone and `find(…, {ignoreExpiration: true})` can no longer tell "expired"
 * (42003 / 42001) from "never existed" (40029 / 40001). A tombstone remembers the expiry (and,
 * for codes, that one was redeemed, so every reuse keeps answering 40163 even after the reuse
 * revoked the grant and swept the code away) for KEEP_AFTER_EXPIRY_MS past the expiry. Later
 * than that, an expired value answers as invalid, which every WeChat client handles the same
 * way (get a new token or log in again).
 *
 * Keys hold a hash of the value, never the value. Refresh tokens need no tombstone: their rows
 * stay in PostgreSQL after expiry (tokens.ts reads the row).
 */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600 * 1000;

export type TombstoneKind = 'code' | 'access_token';

export interface Tombstone {
  /** Expiry, epoch seconds. */
  exp: number;
  used?: true;
}

export type Tombstones = ReturnType<typeof createTombstones>;

export function createTombstones(store: EphemeralStore, now: () => number = Date.now) {
  const key = (kind: TombstoneKind, value: string) => `wechat:tomb:${kind}:${createHash('sha256').update(value).digest('base64url').slice(0, 32)}`;

  return {
    async record(kind: TombstoneKind, value: string, tomb: Tombstone): Promise<void> {
      const ttlMs = Math.max(tomb.exp * 1000 - now(), 0) + KEEP_AFTER_EXPIRY_MS;
      await store.set(key(kind, value), JSON.stringify(tomb), ttlMs);
    },
    async read(kind: TombstoneKind, value: string): Promise<Tombstone | null> {
      const raw = await store.get(key(kind, value));
      return raw ? (JSON.parse(raw) as Tombstone) : null;
    },
    /**
     * The single-use gate of a /sns code redemption: true for exactly one caller per code
     * (`setIfAbsent` is atomic in both stores). tokens.ts explains why the adapter's consume
     * alone is not enough.
     */
    async claimRedemption(code: string, exp: number): Promise<boolean> {
      const ttlMs = Math.max(exp * 1000 - now(), 0) + KEEP_AFTER_EXPIRY_MS;
      return store.setIfAbsent(`${key('code', code)}:redeemed`, '1', ttlMs);
    },
    async redeemed(code: string): Promise<boolean> {
      return (await store.get(`${key('code', code)}:redeemed`)) !== null;
    },
    /** True when the tombstone says the value expired (as opposed to: never known, or revoked). */
    expired: (tomb: Tombstone | null) => !!tomb && tomb.exp * 1000 <= now(),
  };
}
