import type { JWK } from 'jose';
import { z } from 'zod';
import { commonError, notFound } from '../errors.js';
import { parseWith } from '../http/guard.js';
import type { Logger } from '../log.js';
import type { Clock } from '../login/clock.js';
import { ID_TOKEN_ALGS, type KeyMaterial } from '../oidc/keys.js';
import { TTL } from '../oidc/provider.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import type { KeyCipher } from './cipher.js';
import { COOKIE_SLOT, cookieKey, publicJwk, signingKeyLike, signingSlot } from './generate.js';
import { inUse, nextChange, planRemoval, planRotation, stateOf, type KeyKind, type KeyState, type ScheduledKey } from './schedule.js';

/**
 * The keys oidc-provider signs with, in the database (ProviderKey) so every instance uses the
 * same ones and sees a rotation: ID token signing keys (the JWKS) and cookie keys.
 *
 * - `seed`: first start on an empty table imports the configured keys (JWKS/COOKIE_KEYS, else
 *   keys.json), kids and order kept, so an upgrade breaks no token or cookie.
 * - `rotate`: a new key per slot, published now, signing after the lead time; the keys it
 *   replaces are retired once what they signed has expired (schedule.ts).
 * - `watch`: every instance re-reads the keys when one announces a change (pub/sub), at the
 *   next activation or retirement (time passes without messages), and every POLL_MS (a
 *   message lost while Redis was away), and hands the keys in use to the provider.
 * Private material is sealed (cipher.ts); retired keys are deleted, material and all.
 */
const KEYS_CHANGED = 'keys-changed';

/** The longest a change can go unseen by an instance that missed its message. */
const POLL_MS = 60_000;
/** Prisma's "the table does not exist". */
const MISSING_TABLE = 'P2021';
/** Seeding and rotating are serialised across instances by this PostgreSQL advisory lock. */
const LOCK = 'SELECT 1 FROM (SELECT pg_advisory_xact_lock(5361706)) AS locked';

const DEFAULT_LEAD_SECONDS: Record<KeyKind, number> = {
  /** Sites cache the JWKS (commonly minutes to hours); a day is past every cache we know. */
  signing: 24 * 3600,
  /** Only the instances must learn a cookie key before it signs: pub/sub at once, polling within a minute. */
  cookie: 5 * 60,
};
const MAX_LEAD_SECONDS = 30 * 24 * 3600;

/**
 * How long a replaced key stays published after its successor starts signing: the longest life
 * of what it signed, plus 5 minutes for clocks that differ. Signing keys sign only ID tokens
 * (access and refresh tokens are opaque, looked up rather than verified), which live
 * TTL.IdToken; cookie keys sign oidc-provider's cookies, the longest-lived being the session and
 * interaction ones.
 */
const RETIRE_AFTER_MS: Record<KeyKind, number> = {
  signing: (TTL.IdToken + 300) * 1000,
  cookie: (Math.max(TTL.Session, TTL.Interaction) + 300) * 1000,
};

export const rotateInputSchema = z.strictObject({
  /** What to rotate (default both). */
  kind: z.enum(['signing', 'cookie', 'all']).default('all'),
  /** Seconds between publishing the new key(s) and signing with them (default: signing 1 day, cookie 5 minutes). */
  leadSeconds: z.coerce.number().int().min(0).max(MAX_LEAD_SECONDS, `leadSeconds is at most ${MAX_LEAD_SECONDS} (30 days)`).optional(),
  /** Only the signing key(s) of this algorithm. */
  alg: z.enum(ID_TOKEN_ALGS).optional(),
});

export interface KeyView {
  /** The private signing keys in use, in oidc-provider's order (signers first). */
  jwks: { keys: JWK[] };
  /** Cookie keys in use, the signing one first. */
  cookieKeys: string[];
  /** Changes exactly when the signing keys in use (or their order) change. */
  signingFingerprint: string;
  /** Changes when any key in use (or the order) changes. */
  fingerprint: string;
  nextChangeAt: number | null;
}

interface Row extends ScheduledKey {
  alg: string | null;
  publicJwk: JWK | null;
  material: string;
}

export interface KeyringDeps {
  prisma: PrismaClient;
  /** Tells the other instances (null: nothing else can be listening). */
  store: EphemeralStore | null;
  /** Null when IDENTIFIER_SECRET is unknown here (the CLI without keys.json): listing only. */
  cipher: KeyCipher | null;
  clock: Clock;
  /** How long after a newer key activates a replaced one stays published (default RETIRE_AFTER_MS). */
  retireAfterMs?: Record<KeyKind, number>;
}

export type Keyring = ReturnType<typeof createKeyring>;
/** A key as admins see it (never private material). */
export type KeySummary = Awaited<ReturnType<Keyring['list']>>[number];

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function createKeyring(deps: KeyringDeps) {
  const { prisma, clock } = deps;

  async function load(db: Pick<PrismaClient, 'providerKey'> = prisma): Promise<Row[]> {
    const rows = await db.providerKey.findMany({ orderBy: [{ activeAt: 'asc' }, { id: 'asc' }] });
    return rows.map((r) => {
      const jwk = (r.publicJwk ?? null) as JWK | null;
      return {
        id: r.id,
        kind: r.kind as KeyKind,
        alg: r.alg,
        slot: r.kind === 'cookie' ? COOKIE_SLOT : signingSlot(jwk ?? {}),
        publicJwk: jwk,
        material: r.material,
        publishAt: r.publishAt.getTime(),
        activeAt: r.activeAt.getTime(),
        retireAt: r.retireAt?.getTime() ?? null,
      };
    });
  }

  function cipher(): KeyCipher {
    if (!deps.cipher)
      throw commonError('invalid_request', 'Keys cannot be read or made here: IDENTIFIER_SECRET is unknown (set it, or run this where DATA_DIR/keys.json is).');
    return deps.cipher;
  }

  const signingRow = (jwk: JWK, at: number) => ({
    id: jwk.kid!,
    kind: 'signing',
    alg: jwk.alg ?? null,
    publicJwk: publicJwk(jwk) as object,
    material: cipher().seal(jwk.kid!, JSON.stringify(jwk)),
    publishAt: new Date(at),
    activeAt: new Date(at),
  });
  const cookieRow = (id: string, secret: string, at: number) => ({
    id,
    kind: 'cookie',
    material: cipher().seal(id, secret),
    publishAt: new Date(at),
    activeAt: new Date(at),
  });

  /** Stores a new key shaped like `like` (same type, curve or size, alg), published at `now`, signing from `activeAt`; its id. */
  async function createLike(tx: Pick<PrismaClient, 'providerKey'>, keys: Row[], like: string, kind: KeyKind, now: number, activeAt: number) {
    const at = { publishAt: new Date(now), activeAt: new Date(activeAt) };
    if (kind === 'signing') {
      const jwk = await signingKeyLike(JSON.parse(cipher().open(like, keys.find((k) => k.id === like)!.material)) as JWK);
      await tx.providerKey.create({ data: { ...signingRow(jwk, now), ...at } });
      return jwk.kid!;
    }
    const { id, secret } = cookieKey();
    await tx.providerKey.create({ data: { ...cookieRow(id, secret, now), ...at } });
    return id;
  }

  async function publish() {
    await deps.store?.publish(KEYS_CHANGED, String(clock.now())).catch(() => undefined); // the others also poll
  }

  /** The keys in use now, decrypted, in the order oidc-provider needs. */
  async function current(): Promise<KeyView> {
    return viewOf(await load(), clock.now(), (k) => cipher().open(k.id, k.material));
  }

  /** The keys in use at `now` among `keys`, whose secret `open` gives. */
  function viewOf<K extends ScheduledKey>(keys: K[], now: number, open: (key: K) => string): KeyView {
    const used = inUse(keys, now);
    const signing = used.filter((k) => k.kind === 'signing');
    return {
      jwks: { keys: signing.map((k) => JSON.parse(open(k)) as JWK) },
      cookieKeys: used.filter((k) => k.kind === 'cookie').map(open),
      signingFingerprint: signing.map((k) => k.id).join(','),
      fingerprint: used.map((k) => k.id).join(','),
      nextChangeAt: nextChange(keys, now),
    };
  }

  /** Every key and its state (never private material). */
  async function list() {
    const keys = await load();
    const now = clock.now();
    return keys.map((k) => described(k, stateOf(k, keys, now)));
  }

  /** A key as admins see it (never private material). */
  const described = (k: Row, state: KeyState) => ({
    id: k.id,
    kind: k.kind,
    alg: k.alg,
    kty: k.publicJwk?.kty ?? null,
    crv: k.publicJwk?.crv ?? null,
    state,
    publishAt: iso(k.publishAt)!,
    activeAt: iso(k.activeAt)!,
    retireAt: iso(k.retireAt),
  });

  /**
   * The view `seed` would give from `material`, computed without the database: what an instance
   * signs with while its database lacks the ProviderKey table (MIGRATE_ON_START=0, migrations
   * still to come). No other instance can have rotated anything then; the same keys, kids and
   * order are seeded once the table is there, so nothing changes at that moment.
   */
  function unseeded(material: Pick<KeyMaterial, 'jwks' | 'cookieKeys'>): KeyView {
    const now = clock.now();
    const keys = [
      ...material.jwks.keys.map((jwk, i) => ({
        id: jwk.kid ?? `imported-${i}`,
        kind: 'signing' as const,
        slot: signingSlot(jwk),
        publishAt: now - i,
        activeAt: now - i,
        retireAt: null,
        plain: JSON.stringify(jwk),
      })),
      ...material.cookieKeys.map((secret, i) => ({
        id: `ck-imported-${i}`,
        kind: 'cookie' as const,
        slot: COOKIE_SLOT,
        publishAt: now - i,
        activeAt: now - i,
        retireAt: null,
        plain: secret,
      })),
    ];
    return viewOf(keys, now, (k) => k.plain);
  }

  const keyring = {
    /**
     * First start on an empty table: import the configured keys, in their order (each earlier
     * one activated a millisecond later, so the first still signs). Returns the configured
     * signing kids the database does not have (JWKS changed after the import: ignored).
     */
    async seed(material: Pick<KeyMaterial, 'jwks' | 'cookieKeys'>): Promise<{ seeded: KeyKind[]; ignoredKids: string[] }> {
      const seeded: KeyKind[] = [];
      await prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(LOCK);
        const kinds = new Set((await tx.providerKey.findMany({ select: { kind: true }, distinct: ['kind'] })).map((r) => r.kind));
        const now = clock.now();
        if (!kinds.has('signing')) {
          await tx.providerKey.createMany({ data: material.jwks.keys.map((jwk, i) => signingRow({ ...jwk, kid: jwk.kid ?? `imported-${i}` }, now - i)) });
          seeded.push('signing');
        }
        if (!kinds.has('cookie')) {
          await tx.providerKey.createMany({ data: material.cookieKeys.map((secret, i) => cookieRow(`ck-imported-${i}`, secret, now - i)) });
          seeded.push('cookie');
        }
      });
      const known = new Set((await load()).map((k) => k.id));
      return { seeded, ignoredKids: material.jwks.keys.map((k) => k.kid ?? '').filter((kid) => kid && !known.has(kid)) };
    },

    current,

    list,

    /**
     * At start: seeds an empty table and returns the keys in use. Without the table (its
     * migration not applied yet: /readyz says so) the configured keys are used and `pending`
     * tells `watch` to seed once the table appears.
     */
    async start(material: Pick<KeyMaterial, 'jwks' | 'cookieKeys'>, log: Logger): Promise<{ view: KeyView; pending: boolean; ignoredKids: string[] }> {
      try {
        const { ignoredKids } = await keyring.seed(material);
        return { view: await current(), pending: false, ignoredKids };
      } catch (err) {
        if ((err as { code?: unknown }).code !== MISSING_TABLE) throw err;
        log.warn('the ProviderKey table is not there yet (migrations pending): signing with the configured keys until it is');
        return { view: unseeded(material), pending: true, ignoredKids: [] };
      }
    },

    /**
     * Rotates: a new key for each slot of `kind` (or only `alg`'s), published now and signing
     * after the lead time; the replaced keys get their retirement date. Serialised across
     * instances, so two rotations at once cannot leave a key without one.
     */
    async rotate(raw: unknown) {
      const input = parseWith(rotateInputSchema, raw ?? {});
      cipher(); // says why before anything is locked
      const kinds: KeyKind[] = input.kind === 'all' ? ['signing', 'cookie'] : [input.kind];
      const lead = (kind: KeyKind) => (input.leadSeconds ?? DEFAULT_LEAD_SECONDS[kind]) * 1000;
      const result = await prisma.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe(LOCK);
          const keys = await load(tx);
          const now = clock.now();
          const plans = planRotation(keys, now, {
            kinds,
            leadMs: { signing: lead('signing'), cookie: lead('cookie') },
            retireAfterMs: deps.retireAfterMs ?? RETIRE_AFTER_MS,
            onlySlot: input.alg ? (slot) => slot.endsWith(`:${input.alg}`) : undefined,
          });
          if (input.alg && !plans[0]?.slots.length) throw commonError('invalid_request', `alg: no signing key signs ${input.alg} here.`);
          const created: string[] = [];
          for (const plan of plans) {
            for (const { like, kind } of plan.slots) created.push(await createLike(tx, keys, like, kind, now, plan.activeAt));
            for (const { id, retireAt } of plan.retire) await tx.providerKey.update({ where: { id }, data: { retireAt: new Date(retireAt) } });
          }
          return { created, retiring: plans.flatMap((p) => p.retire.map((r) => r.id)) };
        },
        { timeout: 60_000 }, // an RSA key takes a moment to generate
      );
      await publish();
      const all = await list();
      return { created: all.filter((k) => result.created.includes(k.id)), replaced: all.filter((k) => result.retiring.includes(k.id)) };
    },

    /**
     * Removes a key at once (it leaked): deleted, private material and all, so it leaves the
     * JWKS and stops verifying cookies on every instance as soon as they hear (pub/sub; within
     * POLL_MS otherwise). A key that was signing is replaced in the same step (schedule.ts,
     * planRemoval). What it signed stops verifying: ID tokens at sites that re-fetch the JWKS;
     * with a cookie key, logins in progress start again.
     */
    async remove(id: string) {
      cipher();
      const result = await prisma.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe(LOCK);
          const keys = await load(tx);
          const now = clock.now();
          const plan = planRemoval(keys, id, now);
          if (!plan) throw notFound(`No key ${id} is in use (keys:list shows them).`);
          let signing: string | null = plan.promote;
          if (plan.promote) await tx.providerKey.update({ where: { id: plan.promote }, data: { activeAt: new Date(now) } });
          if (plan.replace) signing = await createLike(tx, keys, plan.replace.like, plan.replace.kind, now, now);
          const removed = keys.find((k) => k.id === id)!;
          await tx.providerKey.delete({ where: { id } });
          return { removed: { ...removed, retireAt: now }, signing };
        },
        { timeout: 60_000 }, // an RSA key takes a moment to generate
      );
      await publish();
      return { removed: described(result.removed, 'retired'), signing: (await list()).find((k) => k.id === result.signing) ?? null };
    },

    /**
     * Hands `apply` the keys in use whenever they change (starting after `initial`), until the
     * returned function is called. Deletes retired keys as it finds them.
     */
    async watch(
      initial: KeyView,
      apply: (view: KeyView) => void,
      log: Logger,
      seedFirst?: Pick<KeyMaterial, 'jwks' | 'cookieKeys'>,
    ): Promise<() => Promise<void>> {
      let last = initial.fingerprint;
      let toSeed = seedFirst;
      let cancel: (() => void) | undefined;
      let stopped = false;
      let running: Promise<void> = Promise.resolve();
      const schedule = (at: number | null) => {
        cancel?.();
        if (stopped) return;
        const wait = Math.min(at === null ? POLL_MS : Math.max(0, at - clock.now()), POLL_MS);
        cancel = clock.setTimer(() => void refresh(), wait);
      };
      const check = async () => {
        if (toSeed) {
          await keyring.seed(toSeed);
          toSeed = undefined;
        }
        const view = await current();
        if (view.fingerprint !== last) {
          last = view.fingerprint;
          apply(view);
        }
        await prisma.providerKey.deleteMany({ where: { retireAt: { lte: new Date(clock.now()) } } });
        schedule(view.nextChangeAt);
      };
      // One check at a time: a message and a timer at once run one after the other.
      const refresh = () =>
        (running = running.then(check).catch((err: unknown) => {
          // Still no table (migrations pending): said once at start.
          if ((err as { code?: unknown }).code === MISSING_TABLE) log.debug('the ProviderKey table is still not there');
          else log.warn({ err }, 'reading the keys failed; keeping the ones in use');
          schedule(null);
        }));
      const stopListening = deps.store ? await deps.store.subscribe(KEYS_CHANGED, () => void refresh()) : async () => {};
      const stopResubscribed = deps.store?.onResubscribed(() => void refresh()) ?? (() => {});
      schedule(initial.nextChangeAt);
      return async () => {
        stopped = true;
        cancel?.();
        stopResubscribed();
        await stopListening().catch(() => undefined);
        await running;
      };
    },
  };
  return keyring;
}
