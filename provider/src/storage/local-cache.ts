/**
 * A small per-process cache: entries expire after `ttlMs`, the oldest go first beyond `max`,
 * and a load that was in flight while something was invalidated is returned but not kept (it
 * may have read the row just before the change). Cross-instance invalidation is the caller's:
 * app.ts relays the store's pub/sub messages to `delete` / `deleteWhere`.
 */
export interface LocalCache<V> {
  getOrLoad(key: string, load: () => Promise<V>): Promise<V>;
  /** Replace a cached value in place (e.g. after this process wrote it), keeping its expiry. */
  update(key: string, value: V): void;
  delete(key: string): void;
  deleteWhere(matches: (value: V) => boolean): void;
  clear(): void;
  readonly size: number;
}

export function createLocalCache<V>(opts: { ttlMs: number; max: number; now?: () => number }): LocalCache<V> {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { value: V; until: number }>();
  let generation = 0;
  return {
    async getOrLoad(key, load) {
      const hit = entries.get(key);
      if (hit && hit.until > now()) return hit.value;
      const startedAt = generation;
      const value = await load();
      if (startedAt === generation) {
        entries.delete(key); // re-insert at the end: Map order is the eviction order
        if (entries.size >= opts.max) entries.delete(entries.keys().next().value as string);
        entries.set(key, { value, until: now() + opts.ttlMs });
      }
      return value;
    },
    update(key, value) {
      const hit = entries.get(key);
      if (hit) hit.value = value;
    },
    delete(key) {
      generation++;
      entries.delete(key);
    },
    deleteWhere(matches) {
      generation++;
      for (const [key, entry] of entries) if (matches(entry.value)) entries.delete(key);
    },
    clear() {
      generation++;
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
