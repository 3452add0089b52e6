import { argPath, bodyFrom, columns, confirmed, fields, UsageError, yesOption, type Command, type OptionSpec } from './kit.js';

type App = {
  appId: string;
  name: string;
  status: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  callbackDomain: string | null;
  logoUrl: string | null;
  homepage: string | null;
  description: string | null;
  developerId: string;
  tokenEndpointAuthMethod: string | null;
  idTokenSignedResponseAlg: string;
  requirePkce: boolean;
  requireUserVerification?: boolean;
  previousSecretExpiresAt?: string | null;
  createdAt: string;
  updatedAt: string;
};

type Counts = Record<'scanned' | 'confirmed' | 'denied' | 'expired' | 'completed', number>;

const appOptions = (requireCreateFields: boolean): Record<string, OptionSpec> => ({
  name: { type: 'string', field: 'name', required: requireCreateFields, help: "the app's name, shown on the QR page and the phone" },
  'redirect-uri': {
    type: 'string',
    multiple: true,
    field: 'redirectUris',
    required: requireCreateFields,
    meta: 'URI',
    help: 'an allowed redirect URI (repeat for several; https, or http on localhost)',
  },
  'post-logout-redirect-uri': {
    type: 'string',
    multiple: true,
    field: 'postLogoutRedirectUris',
    meta: 'URI',
    help: 'where RP-initiated logout (/session/end) may send the browser back (repeat for several; exact match)',
  },
  'callback-domain': { type: 'string', field: 'callbackDomain', help: 'WeChat-style callback domain (host[:port]) for /connect/qrconnect' },
  'logo-url': { type: 'string', field: 'logoUrl', help: 'logo shown on the QR page' },
  homepage: { type: 'string', field: 'homepage', help: "the site's home page" },
  description: { type: 'string', field: 'description', help: 'a note for administrators' },
  developer: { type: 'string', field: 'developerId', help: 'developer account id (apps of one developer share unionid; default dev_default)' },
  'client-auth': {
    type: 'string',
    field: 'tokenEndpointAuthMethod',
    meta: 'METHOD',
    help: 'how the site sends its AppSecret to /token: client_secret_basic (HTTP Basic, the default) or client_secret_post (form body); only this one is accepted',
  },
  'id-token-alg': {
    type: 'string',
    field: 'idTokenSignedResponseAlg',
    meta: 'ALG',
    help: 'ID token signing algorithm (default RS256; e.g. ES256, PS256; needs a key in JWKS)',
  },
  'require-pkce': {
    type: 'string',
    field: 'requirePkce',
    meta: 'true|false',
    help: 'authorization requests must carry a PKCE S256 challenge (default true for new apps; WeChat-style requests are exempt)',
  },
  'require-passkey': {
    type: 'string',
    field: 'requireUserVerification',
    meta: 'yes|no',
    help: "the Confirm tap needs the person's passkey (fingerprint, face or screen lock), not only a signed-in phone (default no)",
  },
});

function appText(a: App): string {
  return fields([
    ['AppID', a.appId],
    ['Name', a.name],
    ['Status', a.status],
    ['Redirect URIs', a.redirectUris.join('\n                 ')],
    ['After logout', a.postLogoutRedirectUris?.length ? a.postLogoutRedirectUris.join('\n                 ') : null],
    ['Callback domain', a.callbackDomain],
    ['Logo URL', a.logoUrl],
    ['Homepage', a.homepage],
    ['Description', a.description],
    ['Developer', a.developerId],
    ['Client auth', a.tokenEndpointAuthMethod ?? 'not yet pinned (pinned to the first method the site uses)'],
    ['ID token alg', a.idTokenSignedResponseAlg],
    ['PKCE required', a.requirePkce ? 'yes' : 'no (not for WeChat-style requests either way)'],
    ['Passkey to confirm', a.requireUserVerification ? 'required' : 'no'],
    ...(a.previousSecretExpiresAt ? ([['Old secret until', a.previousSecretExpiresAt]] as [string, string][]) : []),
    ['Created', a.createdAt],
    ['Updated', a.updatedAt],
  ]);
}

const secretWarning = (appId: string) =>
  `⚠ Store the AppSecret now: it will not be shown again (only a hash is kept).\n  Lost it? npm run admin -- apps:rotate-secret ${appId}`;

const setStatus = (action: 'disable' | 'enable'): Command => ({
  name: `apps:${action}`,
  summary: action === 'disable' ? 'Stop an app from logging anyone in (its tokens stop working)' : 'Allow a disabled app again',
  args: ['appId'],
  options: {},
  async run(ctx) {
    const app = await ctx.api.request<App>('POST', `/apps/${argPath(ctx)}/${action}`);
    return { json: app, text: `${app.name} (${app.appId}) is now ${app.status}.` };
  },
});

export const appCommands: Command[] = [
  {
    name: 'apps:create',
    summary: 'Register an app (website); prints its AppID and AppSecret once',
    args: [],
    options: appOptions(true),
    async run(ctx) {
      const app = await ctx.api.request<App & { appSecret: string }>('POST', '/apps', bodyFrom(this.options, ctx.values));
      return { json: app, text: `Created ${app.name}\n\n${appText(app)}\nAppSecret        ${app.appSecret}\n\n${secretWarning(app.appId)}` };
    },
  },
  {
    name: 'apps:list',
    summary: 'List all apps',
    args: [],
    options: { developer: { type: 'string', help: 'only the apps of this developer account' } },
    async run(ctx) {
      const query = typeof ctx.values.developer === 'string' ? `?developerId=${encodeURIComponent(ctx.values.developer)}` : '';
      const out = await ctx.api.request<{ apps: App[] }>('GET', `/apps${query}`);
      if (!out.apps.length)
        return { json: out, text: 'No apps yet. Create one: npm run admin -- apps:create --name "My Site" --redirect-uri https://example.com/callback' };
      const rows = out.apps.map((a) => [a.appId, a.status, a.name, a.redirectUris[0] + (a.redirectUris.length > 1 ? ` (+${a.redirectUris.length - 1})` : '')]);
      return { json: out, text: columns(['APPID', 'STATUS', 'NAME', 'REDIRECT URI'], rows) };
    },
  },
  {
    name: 'apps:show',
    summary: "Show one app's settings",
    args: ['appId'],
    options: {},
    async run(ctx) {
      const app = await ctx.api.request<App>('GET', `/apps/${argPath(ctx)}`);
      return { json: app, text: appText(app) };
    },
  },
  {
    name: 'apps:update',
    summary: "Change an app's settings (--redirect-uri replaces the whole list)",
    args: ['appId'],
    options: appOptions(false),
    async run(ctx) {
      const body = bodyFrom(this.options, ctx.values);
      if (!Object.keys(body).length) throw new UsageError('Nothing to update: give at least one option, e.g. --name or --redirect-uri.');
      const app = await ctx.api.request<App>('PATCH', `/apps/${argPath(ctx)}`, body);
      return { json: app, text: `Updated.\n\n${appText(app)}` };
    },
  },
  {
    name: 'apps:rotate-secret',
    summary: 'Issue a new AppSecret; the old one stops working at once (or after --grace), and without a grace period what the app was issued is revoked',
    args: ['appId'],
    options: {
      grace: {
        type: 'string',
        meta: 'SECONDS',
        help: 'keep the old secret (and the tokens issued) working this long (max 604800 = 7 days) while the site switches',
      },
      'keep-tokens': { type: 'boolean', help: 'keep the tokens issued so far (default without --grace: revoke them, as after a leaked secret)' },
    },
    async run(ctx) {
      const grace = ctx.values.grace === undefined ? undefined : Number(ctx.values.grace);
      if (grace !== undefined && !Number.isInteger(grace))
        throw new UsageError(`--grace takes whole seconds, e.g. --grace 3600 (got "${String(ctx.values.grace)}").`);
      const body = { ...(grace === undefined ? {} : { graceSeconds: grace }), ...(ctx.values['keep-tokens'] ? { keepTokens: true } : {}) };
      const out = await ctx.api.request<{
        appId: string;
        appSecret: string;
        previousSecretExpiresAt: string | null;
        tokensRevoked: boolean;
        revokedGrants: number;
      }>('POST', `/apps/${argPath(ctx)}/secret`, body);
      const old = out.previousSecretExpiresAt
        ? `The previous secret keeps working until ${out.previousSecretExpiresAt}.`
        : 'The previous secret no longer works.';
      const tokens = out.tokensRevoked
        ? `Revoked what the app was issued (${out.revokedGrants} grants): its users sign in again.`
        : 'Tokens issued so far keep working.';
      return { json: out, text: `New AppSecret for ${out.appId}: ${out.appSecret}\n${old}\n${tokens}\n\n${secretWarning(out.appId)}` };
    },
  },
  setStatus('disable'),
  setStatus('enable'),
  {
    name: 'apps:delete',
    summary: 'Delete an app with its authorizations and tokens (asks for its name, or --yes)',
    args: ['appId'],
    options: yesOption,
    async run(ctx) {
      const app = await ctx.api.request<App>('GET', `/apps/${argPath(ctx)}`);
      await confirmed(ctx, `delete ${app.name} (${app.appId}), every authorization people gave it and every token issued to it`, app.name);
      const out = await ctx.api.request<{ appId: string; name: string; authorizations: number; grants: number }>('DELETE', `/apps/${argPath(ctx)}`);
      return { json: out, text: `Deleted ${out.name} (${out.appId}): ${out.authorizations} authorization(s) and ${out.grants} grant(s) with their tokens.` };
    },
  },
  {
    name: 'apps:usage',
    summary: "An app's logins in the last 24 hours and 30 days (scanned, confirmed, denied, expired, completed)",
    args: ['appId'],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ appId: string; last24h: Counts; last30d: Counts }>('GET', `/apps/${argPath(ctx)}/usage`);
      const keys = ['scanned', 'confirmed', 'denied', 'expired', 'completed'] as const;
      const rows = keys.map((k) => [k, String(out.last24h[k]), String(out.last30d[k])]);
      return {
        json: out,
        text: `${columns(['LOGINS', 'LAST 24 H', 'LAST 30 DAYS'], rows)}\n\nexpired = scanned, then neither confirmed nor denied before the QR code timed out.`,
      };
    },
  },
  {
    name: 'apps:audit',
    summary: "An app's audit trail, newest first",
    args: ['appId'],
    options: { limit: { type: 'string', meta: 'N', help: 'how many events (1–500, default 50)' } },
    async run(ctx) {
      const limit = ctx.values.limit === undefined ? '' : `?limit=${encodeURIComponent(String(ctx.values.limit))}`;
      const out = await ctx.api.request<{
        events: Array<{ at: string; type: string; userId: string | null; ip: string | null; detail: { actor?: string } | null }>;
      }>('GET', `/apps/${argPath(ctx)}/audit${limit}`);
      if (!out.events.length) return { json: out, text: 'No events yet.' };
      const rows = out.events.map((e) => [e.at, e.type, e.userId ?? e.detail?.actor ?? '', e.ip ?? '']);
      return { json: out, text: columns(['AT', 'EVENT', 'WHO', 'IP'], rows) };
    },
  },
];
