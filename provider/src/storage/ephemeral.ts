/**
 * The ephemeral store: short-lived state with TTLs (QR sessions, oidc-provider's short-lived
 * models, rate-limit counters) and pub/sub for "the QR changed" notifications.
 *
 * Two implementations pass one contract suite (test/contract/ephemeral.contract.ts):
 * - `createRedisStore` (ioredis, production, shared by any number of provider instances)
 * - `createMemoryStore` (the zero-setup default; one process only)
 *
 * Contract, per method (values are opaque strings; callers serialise JSON themselves):
 * - TTLs are in milliseconds and always > 0; an expired key behaves exactly like a missing one.
 * - Every write that takes a `ttlMs` replaces the key's TTL with it.
 * - `compareAndSet` is atomic: among concurrent callers with the same `expected`, at most one
 *   returns true. It is the only primitive the QR state machine and code consumption rely on.
 * - `publish` reaches every `subscribe`r of that channel in every process sharing the store;
 *   delivery is best-effort (no replay), so subscribers re-read state after subscribing.
 * - Keys are namespaced by the store's prefix; callers pass bare keys.
 */
export interface EphemeralStore {
  /** Current value, or null when missing or expired. */
  get(key: string): Promise<string | null>;
  /** Several values at once (null for each missing key), in the order asked. */
  mget(keys: string[]): Promise<(string | null)[]>;
  /** Unconditional write with a TTL. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Write only if the key is missing; true if written. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Replace the value only if it currently equals `expected` (`null` = the key is missing).
   * True if replaced. `ttlMs` replaces the TTL; omitted keeps the current one (or none, for a
   * key created from `expected = null`, which is not allowed: give a TTL then).
   */
  compareAndSet(key: string, expected: string | null, next: string, ttlMs?: number): Promise<boolean>;
  /** Remove keys; returns how many existed. */
  del(...keys: string[]): Promise<number>;
  /** Remaining TTL in ms, or null when the key is missing. */
  ttl(key: string): Promise<number | null>;

  /** Add a member to a set and (re)set the set's TTL. Sets index keys, e.g. grantId → token keys. */
  sadd(key: string, member: string, ttlMs: number): Promise<void>;
  /** Members of a set (empty when missing). */
  smembers(key: string): Promise<string[]>;

  /** Publish a message on a channel (every process sharing the store hears it). */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Listen on a channel. All subscriptions of a process share one connection (Redis: one
   * subscriber connection per store, never one per listener). Resolves once the subscription
   * is active, to a function that removes this listener.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;

  /**
   * Called each time subscriptions are back after the connection carrying them was lost (Redis
   * restarted, failover): messages published in the gap are gone, so listeners re-read state.
   * Never called by the memory store. Returns a function that removes the callback.
   */
  onResubscribed(callback: () => void): () => void;

  /** True when the backing service answers (health checks, 503s). */
  ping(): Promise<boolean>;
  /** Release connections and timers. */
  close(): Promise<void>;
  /** "redis" or "memory", for logs and health output. */
  readonly kind: 'redis' | 'memory';
}
