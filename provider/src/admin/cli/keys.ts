import { columns, UsageError, type Command } from './kit.js';

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
];
