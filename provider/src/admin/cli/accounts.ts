import { argPath, columns, confirmed, fields, passwordFrom, passwordOptions, UsageError, yesOption, type Command } from './kit.js';

type Developer = { id: string; name: string; apps: number; createdAt: string };
type Token = { id: string; name: string; status: string; createdBy: string; createdAt: string; expiresAt: string | null; lastUsedAt: string | null };
type Admin = { id: string; username: string; status: string; createdAt: string };

const developerText = (d: Developer) =>
  fields([
    ['ID', d.id],
    ['Name', d.name],
    ['Apps', String(d.apps)],
    ['Created', d.createdAt],
  ]);

export const developerCommands: Command[] = [
  {
    name: 'developers:create',
    summary: 'Create a developer account (its apps share unionid)',
    args: [],
    options: {
      name: { type: 'string', required: true, help: "the account's name" },
      id: { type: 'string', help: 'its id (3–64 letters, digits, _ or -; default generated); it never changes' },
    },
    async run(ctx) {
      const d = await ctx.api.request<Developer>('POST', '/developers', {
        name: ctx.values.name,
        ...(ctx.values.id !== undefined ? { id: ctx.values.id } : {}),
      });
      return {
        json: d,
        text: `Created developer account.\n\n${developerText(d)}\n\nRegister its apps with: npm run admin -- apps:create --developer ${d.id} …`,
      };
    },
  },
  {
    name: 'developers:list',
    summary: 'List developer accounts',
    args: [],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ developers: Developer[] }>('GET', '/developers');
      return {
        json: out,
        text: columns(
          ['ID', 'APPS', 'NAME'],
          out.developers.map((d) => [d.id, String(d.apps), d.name]),
        ),
      };
    },
  },
  {
    name: 'developers:show',
    summary: 'Show a developer account',
    args: ['developerId'],
    options: {},
    async run(ctx) {
      const d = await ctx.api.request<Developer>('GET', `/developers/${argPath(ctx)}`);
      return { json: d, text: developerText(d) };
    },
  },
  {
    name: 'developers:update',
    summary: 'Rename a developer account',
    args: ['developerId'],
    options: { name: { type: 'string', required: true, help: 'the new name' } },
    async run(ctx) {
      const d = await ctx.api.request<Developer>('PATCH', `/developers/${argPath(ctx)}`, { name: ctx.values.name });
      return { json: d, text: `Updated.\n\n${developerText(d)}` };
    },
  },
  {
    name: 'developers:delete',
    summary: 'Delete a developer account that owns no apps',
    args: ['developerId'],
    options: yesOption,
    async run(ctx) {
      await confirmed(ctx, `delete developer account ${ctx.args[0]}`, ctx.args[0]);
      const out = await ctx.api.request<{ id: string }>('DELETE', `/developers/${argPath(ctx)}`);
      return { json: out, text: `Deleted developer account ${out.id}.` };
    },
  },
];

export const tokenCommands: Command[] = [
  {
    name: 'tokens:create',
    summary: 'Create an admin API token (Authorization: Bearer sat_…); prints it once',
    args: [],
    options: {
      name: { type: 'string', required: true, help: 'what uses it, e.g. "deploy pipeline"' },
      'expires-in': { type: 'string', meta: 'DURATION', help: 'stop working after this long: 3600, 12h, 90d (at most 2 years; default: until revoked)' },
    },
    async run(ctx) {
      const expiresIn = ctx.values['expires-in'] === undefined ? undefined : durationSeconds(String(ctx.values['expires-in']));
      const t = await ctx.api.request<Token & { token: string }>('POST', '/tokens', {
        name: ctx.values.name,
        ...(expiresIn === undefined ? {} : { expiresInSeconds: expiresIn }),
      });
      return {
        json: t,
        text: `Created token "${t.name}" (${t.id}):\n\n  ${t.token}\n\n⚠ Store it now: it will not be shown again (only a hash is kept).\nUse it as Authorization: Bearer <token> on /api/admin, or\n  SAOMA_ADMIN_URL=<provider URL> SAOMA_ADMIN_TOKEN=<token> npm run admin -- apps:list`,
      };
    },
  },
  {
    name: 'tokens:list',
    summary: 'List admin API tokens (never the tokens themselves)',
    args: [],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ tokens: Token[] }>('GET', '/tokens');
      if (!out.tokens.length) return { json: out, text: 'No tokens. Create one: npm run admin -- tokens:create --name NAME' };
      return {
        json: out,
        text: columns(
          ['ID', 'STATUS', 'EXPIRES', 'LAST USED', 'NAME'],
          out.tokens.map((t) => [t.id, t.status, t.expiresAt ?? 'never', t.lastUsedAt ?? 'never', t.name]),
        ),
      };
    },
  },
  {
    name: 'tokens:revoke',
    summary: 'Revoke an admin API token (by id, or by name if unique); it stops working at once',
    args: ['token'],
    options: {},
    async run(ctx) {
      const t = await ctx.api.request<Token>('DELETE', `/tokens/${argPath(ctx)}`);
      return { json: t, text: `Revoked token "${t.name}" (${t.id}).` };
    },
  },
];

export const adminCommands: Command[] = [
  {
    name: 'admins:create',
    summary: 'Create a console admin (asks for the password, or --password-stdin)',
    args: [],
    options: { username: { type: 'string', required: true, help: 'their username (letters, digits, _ . -)' }, ...passwordOptions },
    async run(ctx) {
      const a = await ctx.api.request<Admin>('POST', '/admins', { username: ctx.values.username, password: await passwordFrom(ctx) });
      return { json: a, text: `Created admin ${a.username}. Sign in at <provider URL>/admin.` };
    },
  },
  {
    name: 'admins:list',
    summary: 'List console admins',
    args: [],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ admins: Admin[] }>('GET', '/admins');
      if (!out.admins.length) return { json: out, text: 'No admins. Create one: npm run admin -- admins:create --username NAME' };
      return {
        json: out,
        text: columns(
          ['USERNAME', 'STATUS', 'CREATED'],
          out.admins.map((a) => [a.username, a.status, a.createdAt]),
        ),
      };
    },
  },
  ...(['disable', 'enable'] as const).map((action): Command => ({
    name: `admins:${action}`,
    summary:
      action === 'disable' ? 'Stop an admin from signing in (their console sessions end, their API tokens stop working)' : 'Let a disabled admin sign in again',
    args: ['username'],
    options: {},
    async run(ctx) {
      const a = await ctx.api.request<Admin>('POST', `/admins/${argPath(ctx)}/${action}`);
      return { json: a, text: `${a.username} is now ${a.status}.` };
    },
  })),
  {
    name: 'admins:delete',
    summary: 'Delete an admin: their console sessions end and the API tokens they own are deleted',
    args: ['username'],
    options: { ...yesOption },
    async run(ctx) {
      const username = ctx.args[0] ?? '';
      await confirmed(ctx, `delete admin ${username} and every admin token they own`, username);
      const a = await ctx.api.request<Admin>('DELETE', `/admins/${argPath(ctx)}`);
      return { json: a, text: `Deleted admin ${a.username}; their tokens are gone.` };
    },
  },
  {
    name: 'admins:password',
    summary: "Set an admin's password (asks for it, or --password-stdin); their console sessions end",
    args: ['username'],
    options: passwordOptions,
    async run(ctx) {
      const a = await ctx.api.request<Admin>('POST', `/admins/${argPath(ctx)}/password`, { password: await passwordFrom(ctx) });
      return { json: a, text: `Password changed for ${a.username}.` };
    },
  },
];

/** "3600", "90s", "30m", "12h", "90d" → seconds. */
function durationSeconds(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`--expires-in takes a duration such as 3600, 12h or 90d (got "${text}").`);
  return Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
}
