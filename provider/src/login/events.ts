import { unavailable } from '../errors.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { Clock } from './clock.js';
import { loginError } from './error-codes.js';
import { loginChannel, type LoginStore, type PublishedSnapshot, type QrSnapshot } from './store.js';

/**
 * Pages waiting on a login: Server-Sent Events (`stream`) and long-polls (`watch`), for every
 * surface. Owns, once:
 * - subscribing before reading, so a change between the two is never lost;
 * - the re-read after the store's subscriber reconnects (messages published in the gap are gone);
 * - telling a page when its QR expires (time alone expires a QR: no message is published);
 * - the bounds on open waits: per login and per client address (each holds a connection and
 *   memory; one interaction cookie once held 3,000 streams);
 * - the drain at shutdown: streams end, long-polls answer with what they have.
 */
export interface WaitLimits {
  /** Open waits on one login (a page, a reconnecting EventSource, a second tab). */
  perLogin: number;
  /** Open waits from one address (IPv4, or an IPv6 /64), across logins, in this process. */
  perAddress: number;
}

export interface StreamOptions {
  /** Who is waiting: the rate-limit key of the client address (http/rate-limit.ts `ipKey`). */
  address: string;
  /** Aborts when the client goes away. */
  closed: AbortSignal;
  /** Admitted and subscribed: write the response headers now. */
  open(): void;
  send(snapshot: QrSnapshot): void;
  /** The server is shutting down: end the response (EventSource reconnects elsewhere). */
  end(): void;
}

/** A page sent a decision it heard published `ms` earlier (metrics). */
export type OnNotified = (outcome: 'confirmed' | 'denied', ms: number) => void;

export function createLoginEvents(deps: { store: EphemeralStore; logins: LoginStore; clock: Clock; limits: WaitLimits; onNotified?: OnNotified }) {
  const { store, logins, clock, limits } = deps;
  /** Counts a decision reaching a page: only one that was published (not a page opened after it). */
  const notified = (s: QrSnapshot, publishedAt: number | undefined) => {
    if (publishedAt !== undefined && (s.status === 'confirmed' || s.status === 'denied')) deps.onNotified?.(s.status, clock.now() - publishedAt);
  };
  const rechecks = new Set<() => void>();
  const shutdown = new AbortController();
  const perLogin = new Map<string, number>();
  const perAddress = new Map<string, number>();
  const stopResubscribed = store.onResubscribed(() => rechecks.forEach((recheck) => recheck()));

  const bump = (counts: Map<string, number>, key: string, by: number) => {
    const n = (counts.get(key) ?? 0) + by;
    if (n > 0) counts.set(key, n);
    else counts.delete(key);
  };

  /** Takes a place for one wait or refuses (429); the returned function gives it back, once. */
  function admit(id: string, address: string): () => void {
    if ((perLogin.get(id) ?? 0) >= limits.perLogin || (perAddress.get(address) ?? 0) >= limits.perAddress) {
      throw loginError('too_many_waiting', undefined, { 'Retry-After': '10' });
    }
    bump(perLogin, id, 1);
    bump(perAddress, address, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bump(perLogin, id, -1);
      bump(perAddress, address, -1);
    };
  }

  const aborted = (signal: AbortSignal) =>
    new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

  return {
    /** Long-poll: at once if the status differs from `last` (or `waitMs` is 0), else on a change, expiry or `waitMs`. Null: no QR. */
    async watch(id: string, opts: { address: string; closed: AbortSignal; last?: string; waitMs: number }): Promise<QrSnapshot | null> {
      const release = admit(id, opts.address);
      let wake: () => void = () => {};
      const changed = new Promise<void>((resolve) => (wake = resolve));
      let publishedAt: number | undefined;
      let unsubscribe: (() => Promise<void>) | undefined;
      let cancelTimer: (() => void) | undefined;
      try {
        unsubscribe = await store.subscribe(loginChannel(id), (message) => {
          publishedAt = (JSON.parse(message) as PublishedSnapshot).publishedAt;
          wake();
        });
        rechecks.add(wake);
        const session = await logins.qrOf(id);
        if (!session) return null;
        const now = logins.snapshot(session);
        if (now.status !== opts.last || opts.waitMs === 0 || shutdown.signal.aborted) return now;
        const until = Math.min(opts.waitMs, Math.max(0, now.expiresAt - clock.now()) + 50);
        const timedOut = new Promise<void>((resolve) => (cancelTimer = clock.setTimer(resolve, until)));
        await Promise.race([changed, timedOut, aborted(opts.closed), aborted(shutdown.signal)]);
        const after = await logins.qrOf(id);
        if (!after) return now;
        const snapshot = logins.snapshot(after);
        notified(snapshot, publishedAt);
        return snapshot;
      } finally {
        cancelTimer?.();
        rechecks.delete(wake);
        release();
        await unsubscribe?.().catch(() => {});
      }
    },

    /** SSE: one `send` per change of the login's QR (repeats skipped), until closed or shutdown. */
    async stream(id: string, opts: StreamOptions): Promise<void> {
      if (shutdown.signal.aborted) throw unavailable('The server is restarting; try again.', 1);
      const release = admit(id, opts.address);
      let last = '';
      let cancelExpiry: (() => void) | undefined;
      let done = false;
      const send = (s: QrSnapshot, publishedAt?: number) => {
        if (done) return;
        const data = JSON.stringify(s);
        if (data === last) return;
        last = data;
        opts.send(s);
        notified(s, publishedAt);
        cancelExpiry?.();
        cancelExpiry = undefined;
        if (s.status === 'pending' || s.status === 'scanned') {
          cancelExpiry = clock.setTimer(() => send({ ...s, status: 'expired' }), Math.max(0, s.expiresAt - clock.now()) + 50);
        }
      };
      let unsubscribe: () => Promise<void>;
      try {
        unsubscribe = await store.subscribe(loginChannel(id), (message) => {
          const { publishedAt, ...snapshot } = JSON.parse(message) as PublishedSnapshot;
          send(snapshot, publishedAt);
        });
      } catch (err) {
        release();
        throw err;
      }
      const recheck = () =>
        void logins.qrOf(id).then(
          (s) => s && send(logins.snapshot(s)),
          () => undefined,
        );
      const close = () => {
        if (done) return;
        done = true;
        rechecks.delete(recheck);
        cancelExpiry?.();
        release();
        opts.closed.removeEventListener('abort', close);
        shutdown.signal.removeEventListener('abort', end);
        void unsubscribe().catch(() => {});
      };
      const end = () => {
        close();
        opts.end();
      };
      rechecks.add(recheck);
      opts.closed.addEventListener('abort', close, { once: true });
      shutdown.signal.addEventListener('abort', end, { once: true });
      if (opts.closed.aborted) {
        close();
        return;
      }
      opts.open();
      const session = await logins.qrOf(id).catch(() => null);
      if (session) send(logins.snapshot(session));
    },

    /** Shutdown: streams end, long-polls answer now, new waits are refused. */
    shutdown() {
      shutdown.abort();
      stopResubscribed();
    },
    get draining() {
      return shutdown.signal.aborted;
    },
    /** Open waits right now (metrics, tests). */
    open: () => [...perLogin.values()].reduce((a, b) => a + b, 0),
  };
}
