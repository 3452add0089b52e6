import fs from 'node:fs';
import { argPath, columns, confirmed, fields, UsageError, yesOption, type Command, type CommandContext, type OptionSpec } from './kit.js';

type Source = {
  id: string;
  name: string;
  kind: 'assertion' | 'oidc';
  status: string;
  issuer: string;
  audience?: string;
  jwksUrl?: string | null;
  jwks?: { keys: Array<{ kid?: string; kty: string }> } | null;
  algorithms?: string[];
  clientId?: string;
  hasClientSecret?: boolean;
  scopes?: string[];
  redirectUri?: string;
  links: number;
  createdAt: string;
};

function sourceText(s: Source): string {
  const rows: [string, string | null | undefined][] = [
    ['ID', s.id],
    ['Name', s.name],
    ['Kind', s.kind === 'assertion' ? "assertion (trusted sign-in for the organisation's app)" : 'oidc (sign-in with the organisation SSO on /app)'],
    ['Status', s.status],
    ['Issuer', s.issuer],
  ];
  if (s.kind === 'assertion') {
    rows.push(
      ['Audience', s.audience],
      ['Keys', s.jwksUrl ?? `${s.jwks?.keys.length ?? 0} inline (${s.jwks?.keys.map((k) => k.kid ?? k.kty).join(', ')})`],
      ['Algorithms', s.algorithms?.join(', ')],
    );
  } else {
    rows.push(
      ['Client ID', s.clientId],
      ['Client secret', s.hasClientSecret ? 'set (never shown)' : 'none (public client, PKCE)'],
      ['Scopes', s.scopes?.join(' ')],
      ['Redirect URI', s.redirectUri],
    );
  }
  rows.push(['Linked people', String(s.links)], ['Created', s.createdAt]);
  return fields(rows);
}

const options: Record<string, OptionSpec> = {
  name: { type: 'string', help: 'shown to people ("Sign in with <name>") and admins' },
  issuer: { type: 'string', meta: 'ISS', help: 'assertion: the `iss` its assertions carry; oidc: the OpenID provider issuer URL (https)' },
  audience: { type: 'string', meta: 'AUD', help: "assertion: the `aud` its assertions must carry (e.g. this provider's PUBLIC_URL)" },
  'jwks-url': { type: 'string', meta: 'URL', help: 'assertion: where the organisation publishes its public keys (https; fetched and cached)' },
  'jwks-file': { type: 'string', meta: 'FILE', help: 'assertion: or a JSON file holding its public keys ({"keys": [...]}, no private parts)' },
  alg: { type: 'string', multiple: true, meta: 'ALG', help: 'assertion: an accepted algorithm, repeat for several (RS256, ES256 by default; asymmetric only)' },
  'client-id': { type: 'string', meta: 'ID', help: "oidc: Saoma's client id at that provider" },
  'client-secret-stdin': { type: 'boolean', help: "oidc: read Saoma's client secret from stdin (stored encrypted, never shown again)" },
  scope: { type: 'string', multiple: true, meta: 'SCOPE', help: 'oidc: a scope to ask for, repeat for several (default openid profile)' },
};

async function body(ctx: CommandContext): Promise<Record<string, unknown>> {
  const v = ctx.values;
  const out: Record<string, unknown> = {};
  const set = (flag: string, field: string) => v[flag] !== undefined && (out[field] = v[flag]);
  set('name', 'name');
  set('issuer', 'issuer');
  set('audience', 'audience');
  set('jwks-url', 'jwksUrl');
  set('alg', 'algorithms');
  set('client-id', 'clientId');
  set('scope', 'scopes');
  if (typeof v['jwks-file'] === 'string') {
    try {
      out.jwks = JSON.parse(fs.readFileSync(v['jwks-file'], 'utf8'));
    } catch (err) {
      throw new UsageError(`--jwks-file: cannot read a JSON key set from ${v['jwks-file']} (${(err as Error).message}).`);
    }
  }
  if (v['client-secret-stdin']) out.clientSecret = (await ctx.prompt.stdin()).trim();
  return out;
}

const setStatus = (action: 'disable' | 'enable'): Command => ({
  name: `sources:${action}`,
  summary:
    action === 'disable'
      ? 'Stop sign-ins through an identity source, at once on every instance (people and links stay)'
      : 'Allow sign-ins through a disabled identity source again',
  args: ['sourceId'],
  options: {},
  async run(ctx) {
    const s = await ctx.api.request<Source>('POST', `/identity-sources/${argPath(ctx)}/${action}`);
    return { json: s, text: `${s.name} (${s.id}) is now ${s.status}.` };
  },
});

export const identityCommands: Command[] = [
  {
    name: 'sources:create',
    summary: "Register an identity source: trusted sign-in for the organisation's app (--kind assertion) or its SSO (--kind oidc)",
    args: [],
    options: {
      kind: {
        type: 'string',
        required: true,
        meta: 'assertion|oidc',
        help: 'assertion: its backend signs JWTs its app exchanges; oidc: people sign in with it on /app',
      },
      id: { type: 'string', help: 'its id (3–20 lowercase letters, digits, _ or -; default generated)' },
      ...options,
    },
    async run(ctx) {
      const s = await ctx.api.request<Source>('POST', '/identity-sources', {
        kind: ctx.values.kind,
        ...(ctx.values.id !== undefined ? { id: ctx.values.id } : {}),
        ...(await body(ctx)),
      });
      const next =
        s.kind === 'oidc'
          ? `\n\nRegister this redirect URI at the provider: ${s.redirectUri}`
          : `\n\nThe organisation's app signs people in with POST /api/mobile/login/assertion {"source": "${s.id}", "assertion": "<JWT>"} (docs/NATIVE-APP.md).`;
      return { json: s, text: `Created identity source.\n\n${sourceText(s)}${next}` };
    },
  },
  {
    name: 'sources:list',
    summary: 'List identity sources',
    args: [],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ sources: Source[] }>('GET', '/identity-sources');
      if (!out.sources.length) return { json: out, text: 'No identity sources. Create one: npm run admin -- sources:create --kind assertion|oidc …' };
      return {
        json: out,
        text: columns(
          ['ID', 'KIND', 'STATUS', 'PEOPLE', 'NAME'],
          out.sources.map((s) => [s.id, s.kind, s.status, String(s.links), s.name]),
        ),
      };
    },
  },
  {
    name: 'sources:show',
    summary: 'Show an identity source (never its client secret)',
    args: ['sourceId'],
    options: {},
    async run(ctx) {
      const s = await ctx.api.request<Source>('GET', `/identity-sources/${argPath(ctx)}`);
      return { json: s, text: sourceText(s) };
    },
  },
  {
    name: 'sources:update',
    summary: 'Change an identity source (only the options given; its kind and id never change)',
    args: ['sourceId'],
    options,
    async run(ctx) {
      const s = await ctx.api.request<Source>('PATCH', `/identity-sources/${argPath(ctx)}`, await body(ctx));
      return { json: s, text: `Updated.\n\n${sourceText(s)}` };
    },
  },
  setStatus('disable'),
  setStatus('enable'),
  {
    name: 'sources:delete',
    summary: 'Delete an identity source and its links (the people stay, without that way to sign in)',
    args: ['sourceId'],
    options: yesOption,
    async run(ctx) {
      const id = ctx.args[0] ?? '';
      await confirmed(ctx, `delete identity source ${id} and every link to it`, id);
      const out = await ctx.api.request<{ id: string; name: string; links: number }>('DELETE', `/identity-sources/${argPath(ctx)}`);
      return { json: out, text: `Deleted ${out.name} (${out.id}); ${out.links} link(s) removed.` };
    },
  },
];
