import { argPath, columns, confirmed, UsageError, yesOption, type Command } from './kit.js';

type Key = {
  id: string;
  kind: string;
  alg: string | null;
  kty: string | null;
  crv: string | null;
  state: string;
  publishAt: string;
  activeAt: string;
  retireAt: string | null;
};

const rows = (keys: Key[]) =>
  columns(
    ['ID', 'KIND', 'ALG', 'STATE', 'SIGNS FROM', 'RETIRES'],
    keys.map((k) => [k.id, k.kind, k.alg ?? k.kty ?? '–', k.state, k.activeAt, k.retireAt ?? '–']),
  );

export const keyCommands: Command[] = [
  {
    name: 'keys:list',
    summary: 'List the ID token signing keys and cookie keys, and when each signs and retires',
    args: [],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ keys: Key[] }>('GET', '/keys');
      return { json: out, text: rows(out.keys) };
    },
  },
  {
    name: 'keys:rotate',
    summary: 'Add new signing and/or cookie keys: published at once, signing after the lead time; the old ones retire by themselves',
    args: [],
    options: {
      kind: { type: 'string', meta: 'KIND', help: 'signing, cookie or all (default all)' },
      lead: {
        type: 'string',
        meta: 'SECONDS',
        help: 'seconds between publishing and signing (default: signing 86400, so sites caching the JWKS fetch the new key first; cookie 300). 0 signs at once: only when a key leaked',
      },
      alg: { type: 'string', meta: 'ALG', help: 'only the signing key of this algorithm, e.g. RS256' },
    },
    async run(ctx) {
      const { kind, lead, alg } = ctx.values;
      if (lead !== undefined && !/^\d+$/.test(String(lead))) throw new UsageError('--lead is a whole number of seconds.');
      const body = {
        ...(kind !== undefined ? { kind } : {}),
        ...(lead !== undefined ? { leadSeconds: Number(lead) } : {}),
        ...(alg !== undefined ? { alg, kind: kind ?? 'signing' } : {}),
      };
      const out = await ctx.api.request<{ created: Key[]; replaced: Key[] }>('POST', '/keys/rotate', body);
      const text = [
        `New keys (published now; each signs from the time shown, on every instance):\n${rows(out.created)}`,
        `Replaced (still published until they retire, for what they signed):\n${rows(out.replaced)}`,
      ].join('\n\n');
      return { json: out, text };
    },
  },
  {
    name: 'keys:remove',
    summary: 'Remove a key at once because it leaked: gone from the JWKS and every instance now; a key that signed is replaced in the same step',
    args: ['key'],
    options: yesOption,
    async run(ctx) {
      const id = ctx.args[0] ?? '';
      // Not a rotation: what the key signed stops verifying now (ID tokens at sites; with a cookie key, logins in progress).
      await confirmed(ctx, `remove key ${id} now, invalidating what it signed`, id);
      const out = await ctx.api.request<{ removed: Key; signing: Key | null }>('DELETE', `/keys/${argPath(ctx)}`);
      const text = [
        `Removed ${out.removed.id} (${out.removed.kind}); every instance drops it as soon as it hears.`,
        out.signing ? `Signing in its place:\n${rows([out.signing])}` : 'It did not sign; nothing replaces it.',
      ].join('\n');
      return { json: out, text };
    },
  },
];
