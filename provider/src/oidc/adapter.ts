import { errors } from 'oidc-provider';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { ClientDirectory } from '../apps/directory.js';
import { currentFlow, FLOW_FIELD } from './flows.js';
import { grantCacheKey, grantIndexKey, revokeEphemeral, withGrantCopyDeleted, type Payloads } from './payloads.js';

/**
 * oidc-provider's storage, split by lifetime:
 * - Grant and RefreshToken live in PostgreSQL: they last 30 days and must survive a restart of
 *   a Redis that keeps nothing on disk.
 * - Everything short-lived (Session, Interaction, AuthorizationCode, AccessToken, ...) lives in
 *   the ephemeral store with its TTL.
 * - Clients come from the apps table (clients.ts).
 * - A Grant is read on nearly every request of a login; its copy in the ephemeral store (for at
 *   most GRANT_CACHE_MS) answers those reads. The copy is written before the row and deleted
 *   around every deletion (here and in grants.ts), so it never holds a Grant PostgreSQL no
 *   longer has.
 * `consume` is a compare-and-set in both: of two concurrent redemptions exactly one wins, and
 * the loser revokes the grant (a code used twice is treated as stolen, RFC 6749 §4.1.2).
 */
const DURABLE = new Set(['Grant', 'RefreshToken']);
const GRANT_INDEX_MAX_MS = 31 * 24 * 3600 * 1000;
const GRANT_CACHE_MS = 10 * 60_000;

export function createAdapterFactory(deps: { store: EphemeralStore; payloads: Payloads; clients: ClientDirectory }) {
  const revokeEverywhere = (grantId: string) => deps.payloads.revokeGrant(grantId);

  return class SaomaAdapter implements Adapter {
    private readonly impl: Adapter;
    constructor(readonly name: string) {
      if (name === 'Client') this.impl = clientAdapter(deps.clients);
      else if (name === 'Grant') this.impl = cachedGrantAdapter(durableAdapter(name, deps.payloads), deps.store);
      else if (DURABLE.has(name)) this.impl = durableAdapter(name, deps.payloads);
      else this.impl = ephemeralAdapter(name, deps.store, revokeEverywhere);
    }
    upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      return this.impl.upsert(id, payload, expiresIn);
    }
    find(id: string) {
      return this.impl.find(id);
    }
    findByUserCode(userCode: string) {
      return this.impl.findByUserCode(userCode);
    }
    findByUid(uid: string) {
      return this.impl.findByUid(uid);
    }
    consume(id: string) {
      return this.impl.consume(id);
    }
    destroy(id: string) {
      return this.impl.destroy(id);
    }
    revokeByGrantId(grantId: string) {
      return this.impl.revokeByGrantId(grantId);
    }
  };
}

const unsupported = () => Promise.resolve(undefined);

function clientAdapter(clients: ClientDirectory): Adapter {
  return {
    upsert: () => Promise.reject(new Error('clients are managed through the admin API')),
    find: async (id) => (await clients.get(id))?.metadata,
    findByUserCode: unsupported,
    findByUid: unsupported,
    consume: unsupported,
    destroy: unsupported,
    revokeByGrantId: unsupported,
  };
}

function ephemeralAdapter(name: string, store: EphemeralStore, revoke: (grantId: string) => Promise<void>): Adapter {
  const key = (id: string) => `oidc:${name}:${id}`;
  const uidKey = (uid: string) => `oidc:${name}:uid:${uid}`;
  const userCodeKey = (code: string) => `oidc:${name}:usercode:${code}`;
  const read = async (k: string) => {
    const raw = await store.get(k);
    return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
  };

  return {
    async upsert(id, payload, expiresIn) {
      const ttlMs = Math.max(1, expiresIn ?? 3600) * 1000;
      const stored = name === 'AuthorizationCode' ? { ...payload, [FLOW_FIELD]: currentFlow() } : payload;
      const writes: Promise<unknown>[] = [store.set(key(id), JSON.stringify(stored), ttlMs)];
      if (payload.grantId) writes.push(store.sadd(grantIndexKey(payload.grantId), key(id), Math.min(ttlMs * 2, GRANT_INDEX_MAX_MS)));
      if (payload.uid) writes.push(store.set(uidKey(payload.uid), id, ttlMs));
      if (payload.userCode) writes.push(store.set(userCodeKey(payload.userCode), id, ttlMs));
      await Promise.all(writes);
    },
    find: (id) => read(key(id)),
    async findByUid(uid) {
      const id = await store.get(uidKey(uid));
      return id ? read(key(id)) : undefined;
    },
    async findByUserCode(userCode) {
      const id = await store.get(userCodeKey(userCode));
      return id ? read(key(id)) : undefined;
    },
    async consume(id) {
      for (;;) {
        const raw = await store.get(key(id));
        // Gone while we raced (a concurrent loser revoked the grant): the caller lost too.
        if (!raw) throw new errors.InvalidGrant(`${name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} not found`);
        const payload = JSON.parse(raw) as AdapterPayload;
        if (payload.consumed) {
          if (payload.grantId) await revoke(payload.grantId);
          throw new errors.InvalidGrant(`${name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} already consumed`);
        }
        const next = JSON.stringify({ ...payload, consumed: Math.floor(Date.now() / 1000) });
        if (await store.compareAndSet(key(id), raw, next)) return;
      }
    },
    async destroy(id) {
      await store.del(key(id));
    },
    revokeByGrantId: (grantId) => revokeEphemeral(store, grantId),
  };
}

function cachedGrantAdapter(durable: Adapter, store: EphemeralStore): Adapter {
  return {
    ...durable,
    async upsert(id, payload, expiresIn) {
      const ttlMs = Math.min(GRANT_CACHE_MS, Math.max(1, expiresIn ?? 3600) * 1000);
      // Not listed in the grant's index: every path that removes a Grant goes through
      // withGrantCopyDeleted (destroy and revokeByGrantId below, revokeGrant in grants.ts).
      await store.set(grantCacheKey(id), JSON.stringify(payload), ttlMs);
      try {
        await durable.upsert(id, payload, expiresIn);
      } catch (err) {
        await store.del(grantCacheKey(id)).catch(() => 0);
        throw err;
      }
    },
    async find(id) {
      const cached = await store.get(grantCacheKey(id));
      return cached ? (JSON.parse(cached) as AdapterPayload) : durable.find(id);
    },
    destroy: (id) => withGrantCopyDeleted(store, id, () => durable.destroy(id)),
    revokeByGrantId: (grantId) => withGrantCopyDeleted(store, grantId, () => durable.revokeByGrantId(grantId)),
  };
}

/** Grant and RefreshToken rows, through the one module that owns their table (payloads.ts). */
function durableAdapter(name: string, payloads: Payloads): Adapter {
  const label = name === 'RefreshToken' ? 'refresh token' : name;
  return {
    async upsert(id, payload, expiresIn) {
      const stored = name === 'RefreshToken' ? { ...payload, [FLOW_FIELD]: currentFlow() } : payload;
      await payloads.upsert(name, id, stored, expiresIn);
    },
    find: (id) => payloads.find(name, id),
    findByUid: unsupported,
    findByUserCode: unsupported,
    async consume(id) {
      const result = await payloads.consume(name, id);
      if (!result) throw new errors.InvalidGrant(`${label} not found`);
      if (result.ok) return;
      if (result.grantId) await payloads.revokeGrant(result.grantId);
      throw new errors.InvalidGrant(`${label} already consumed`);
    },
    destroy: (id) => payloads.destroy(name, id),
    revokeByGrantId: (grantId) => payloads.destroyByGrant(name, grantId),
  };
}
