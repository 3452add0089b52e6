/**
 * In-process ephemeral store: the zero-setup default when no Redis is configured.
 * Same contract as the Redis store (test/contract/ephemeral.contract.ts), but only one process
 * sees the data and the messages, so it is for single-instance deployments.
 */
/* eslint-disable @typescript-eslint/require-await -- the interface is async: `async` makes a throw (closed store, bad TTL, wrong type) a rejection, as it is from Redis */
import type { EphemeralStore } from './ephemeral.js';

export interface MemoryStoreOptions {
  /** Clock in ms (tests inject one); defaults to Date.now. */
  now?: () => number;
  /** How often expired keys are dropped even if nobody reads them again. */
  sweepIntervalMs?: number;
  /** Where a throwing listener's error goes (it must not stop delivery to the others). */
  onListenerError?: (error: unknown, channel: string) => void;
}

export interface MemoryStore extends EphemeralStore {
  /** Entries held right now, including expired ones not yet swept (metrics, tests). */
  size(): number;
}

interface Entry {
  value: string | Set<string>;
  expiresAt: number;
}

/** One `subscribe()` call; an object, so the same function subscribed twice is two listeners. */
interface Subscription {
  listener: (message: string) => void;
}

const wrongType = () => new Error('WRONGTYPE Operation against a key holding the wrong kind of value');

/** TTLs are whole positive milliseconds, as Redis' PX wants them. */
function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be > 0, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

export function createMemoryStore(opts: MemoryStoreOptions = {}): MemoryStore {
  const now = opts.now ?? Date.now;
  const onListenerError = opts.onListenerError ?? ((error: unknown, channel: string) => console.error(`[saoma] listener on "${channel}" threw`, error));
  const data = new Map<string, Entry>();
  const channels = new Map<string, Set<Subscription>>();
  let closed = false;

  // Expired keys are invisible on read anyway; the sweep only bounds memory.
  const sweeper = setInterval(() => {
    const t = now();
    for (const [key, entry] of data) if (entry.expiresAt <= t) data.delete(key);
  }, opts.sweepIntervalMs ?? 30_000);
  sweeper.unref();

  function live(): void {
    if (closed) throw new Error('ephemeral store is closed');
  }

  /** The live entry, dropping it if it has expired. */
  function read(key: string): Entry | undefined {
    const entry = data.get(key);
    if (entry && entry.expiresAt <= now()) {
      data.delete(key);
      return undefined;
    }
    return entry;
  }

  function readString(key: string): string | null {
    const entry = read(key);
    if (entry === undefined) return null;
    if (typeof entry.value !== 'string') throw wrongType();
    return entry.value;
  }

  return {
    kind: 'memory',

    // One process, no connection to lose: nothing is ever missed.
    onResubscribed: () => () => {},

    async get(key) {
      live();
      return readString(key);
    },

    async mget(keys) {
      live();
      // Like Redis MGET: a key holding a set reads as null rather than failing.
      return keys.map((key) => {
        const value = read(key)?.value;
        return typeof value === 'string' ? value : null;
      });
    },

    async set(key, value, ttlMs) {
      live();
      data.set(key, { value, expiresAt: now() + checkTtl(ttlMs) });
    },

    async setIfAbsent(key, value, ttlMs) {
      live();
      const ttl = checkTtl(ttlMs);
      if (read(key)) return false;
      data.set(key, { value, expiresAt: now() + ttl });
      return true;
    },

    async compareAndSet(key, expected, next, ttlMs) {
      live();
      if (expected === null && ttlMs === undefined) {
        throw new TypeError('compareAndSet: creating a key (expected = null) needs a ttlMs');
      }
      const ttl = ttlMs === undefined ? undefined : checkTtl(ttlMs);
      // No await between this read and the write below, so this is atomic within the process.
      const current = readString(key);
      if (current !== expected) return false;
      const expiresAt = ttl === undefined ? data.get(key)!.expiresAt : now() + ttl;
      data.set(key, { value: next, expiresAt });
      return true;
    },

    async del(...keys) {
      live();
      let removed = 0;
      for (const key of keys) if (read(key) && data.delete(key)) removed++;
      return removed;
    },

    async ttl(key) {
      live();
      const entry = read(key);
      return entry ? entry.expiresAt - now() : null;
    },

    async sadd(key, member, ttlMs) {
      live();
      const ttl = checkTtl(ttlMs);
      const members = read(key)?.value ?? new Set<string>();
      if (typeof members === 'string') throw wrongType();
      members.add(member);
      data.set(key, { value: members, expiresAt: now() + ttl });
    },

    async smembers(key) {
      live();
      const entry = read(key);
      if (entry === undefined) return [];
      if (typeof entry.value === 'string') throw wrongType();
      return [...entry.value];
    },

    async publish(channel, message) {
      live();
      const subs = channels.get(channel);
      if (!subs) return;
      for (const sub of subs) {
        // Asynchronous like a network round trip, in publish order; a listener removed in the
        // meantime (or a closed store) no longer hears it.
        queueMicrotask(() => {
          if (closed || !subs.has(sub)) return;
          try {
            sub.listener(message);
          } catch (error) {
            onListenerError(error, channel);
          }
        });
      }
    },

    async subscribe(channel, listener) {
      live();
      let subs = channels.get(channel);
      if (!subs) channels.set(channel, (subs = new Set()));
      const sub: Subscription = { listener };
      subs.add(sub);
      return async () => {
        subs.delete(sub);
        if (subs.size === 0 && channels.get(channel) === subs) channels.delete(channel);
      };
    },

    async ping() {
      return !closed;
    },

    async close() {
      closed = true;
      clearInterval(sweeper);
      data.clear();
      channels.clear();
    },

    size() {
      return data.size;
    },
  };
}
