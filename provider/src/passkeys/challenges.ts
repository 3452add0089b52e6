import type { EphemeralStore } from '../storage/ephemeral.js';

/** How long a WebAuthn ceremony may take, from options to response (the browser's timeout is the same). */
export const CEREMONY_MS = 5 * 60_000;

/** What a challenge was issued for: it is accepted for nothing else. */
export type ChallengePurpose = { purpose: 'register'; userId: string } | { purpose: 'login' } | { purpose: 'confirm'; userId: string; qrId: string };

const key = (challenge: string) => `passkey:challenge:${challenge}`;

/**
 * WebAuthn challenges, single-use, in the ephemeral store (shared by every instance): the
 * options endpoint records what a challenge is for; the response is checked against it, and
 * only the first of concurrent responses that verify may consume it (`del` counts once).
 */
export function createChallenges(store: EphemeralStore) {
  return {
    async issue(challenge: string, purpose: ChallengePurpose): Promise<void> {
      await store.set(key(challenge), JSON.stringify(purpose), CEREMONY_MS);
    },
    async peek(challenge: string): Promise<ChallengePurpose | null> {
      if (!/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) return null;
      const raw = await store.get(key(challenge));
      return raw ? (JSON.parse(raw) as ChallengePurpose) : null;
    },
    /** True for exactly one caller. */
    async consume(challenge: string): Promise<boolean> {
      return (await store.del(key(challenge))) === 1;
    },
  };
}
