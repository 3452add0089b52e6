import { argPath, columns, confirmed, fields, passwordFrom, yesOption, type Command } from './kit.js';

type Identity = { id: string; sourceId: string; sourceName: string; kind: string; subject: string; linkedAt: string; lastUsedAt: string | null };
type Methods = { password: boolean; passkeys: Array<{ id: string; name: string; lastUsedAt: string | null }>; identities: Identity[] };
type Authorization = { appId: string; name: string; scopes: string[]; createdAt: string; lastUsedAt: string };
type Device = { id: string; name: string | null; signedInAt: string; lastUsedAt: string };
type User = {
  id: string;
  username: string;
  nickname: string;
  status: string;
  createdAt: string;
  authorizations: number | Authorization[];
  signInMethods?: Methods;
};
type Ended = { devicesSignedOut: number; grantsRevoked: number };

/** "password, 2 passkeys, Acme Bank (cust-1001)": how a person can sign in, in one line. */
function methodsText(m: Methods): string {
  const parts = [
    ...(m.password ? ['password'] : []),
    ...(m.passkeys.length ? [`${m.passkeys.length} passkey${m.passkeys.length > 1 ? 's' : ''}`] : []),
    ...m.identities.map((i) => `${i.sourceName} (${i.subject})`),
  ];
  return parts.join(', ') || 'none (cannot sign in)';
}

type Detail = User & { authorizations: Authorization[]; signInMethods: Methods; devices: Device[] };

function userText(u: Detail): string {
  const head = fields([
    ['ID', u.id],
    ['Username', u.username],
    ['Nickname', u.nickname],
    ['Status', u.status],
    ['Sign-in', methodsText(u.signInMethods)],
    ['Joined', u.createdAt],
  ]);
  const identities = u.signInMethods.identities.length
    ? columns(
        ['LINK', 'SOURCE', 'SUBJECT', 'LAST USED'],
        u.signInMethods.identities.map((i) => [i.id, i.sourceId, i.subject, i.lastUsedAt ?? 'never']),
      )
    : 'No linked identities.';
  const apps = u.authorizations.length
    ? columns(
        ['APPID', 'LAST LOGIN', 'NAME'],
        u.authorizations.map((a) => [a.appId, a.lastUsedAt, a.name]),
      )
    : 'No authorized apps.';
  const devices = u.devices.length
    ? columns(
        ['DEVICE', 'SIGNED IN', 'LAST USED', 'NAME'],
        u.devices.map((d) => [d.id, d.signedInAt, d.lastUsedAt, d.name ?? '–']),
      )
    : 'No device signed in.';
  return `${head}\n\n${identities}\n\n${apps}\n\n${devices}`;
}

const passwordFlags = {
  password: { type: 'string', help: 'a Saoma password (visible in ps and shell history: prefer --password-stdin); default none' },
  'password-stdin': { type: 'boolean', help: 'read the password from stdin' },
} as const;

export const userCommands: Command[] = [
  {
    name: 'users:list',
    summary: 'List or search people (phone-app users), newest first',
    args: [],
    options: {
      search: { type: 'string', help: 'only those whose username, nickname or id contains this' },
      limit: { type: 'string', meta: 'N', help: 'at most this many (1–200, default 50)' },
    },
    async run(ctx) {
      const q = new URLSearchParams();
      if (typeof ctx.values.search === 'string') q.set('q', ctx.values.search);
      if (typeof ctx.values.limit === 'string') q.set('limit', ctx.values.limit);
      const out = await ctx.api.request<{ users: User[] }>('GET', `/users${q.size ? `?${q}` : ''}`);
      if (!out.users.length) return { json: out, text: 'Nobody found.' };
      return {
        json: out,
        text: columns(
          ['ID', 'USERNAME', 'STATUS', 'APPS', 'NICKNAME'],
          out.users.map((u) => [
            u.id,
            u.username,
            u.status,
            String(typeof u.authorizations === 'number' ? u.authorizations : u.authorizations.length),
            u.nickname,
          ]),
        ),
      };
    },
  },
  {
    name: 'users:show',
    summary: 'Show a person: how they sign in, their linked identities, the apps they authorized, their signed-in devices',
    args: ['user'],
    options: {},
    async run(ctx) {
      const u = await ctx.api.request<Detail>('GET', `/users/${argPath(ctx)}`);
      return { json: u, text: userText(u) };
    },
  },
  {
    name: 'users:create',
    summary: 'Provision a person (before their first sign-in); no password unless given: they sign in with a linked identity or a passkey',
    args: [],
    options: {
      username: { type: 'string', required: true, help: 'their username (3–32 letters, digits, _ . -)' },
      nickname: { type: 'string', help: 'the name sites and the phone show (default the username)' },
      picture: { type: 'string', meta: 'URL', help: 'an avatar URL (http or https)' },
      ...passwordFlags,
    },
    async run(ctx) {
      const password = ctx.values.password !== undefined || ctx.values['password-stdin'] ? await passwordFrom(ctx) : undefined;
      const body = {
        username: ctx.values.username,
        ...(ctx.values.nickname !== undefined ? { nickname: ctx.values.nickname } : {}),
        ...(ctx.values.picture !== undefined ? { picture: ctx.values.picture } : {}),
        ...(password ? { password } : {}),
      };
      const u = await ctx.api.request<Detail>('POST', '/users', body);
      return {
        json: u,
        text: `Created ${u.username} (${u.id}).\nLink their identity: npm run admin -- users:link ${u.username} --source SOURCE --subject THEIR_ID`,
      };
    },
  },
  ...(['disable', 'enable'] as const).map((action): Command => ({
    name: `users:${action}`,
    summary:
      action === 'disable'
        ? "Stop a person from signing in: their phones are signed out and sites' tokens for them end, at once"
        : 'Let a disabled person sign in again (they sign in anew on each phone)',
    args: ['user'],
    options: {},
    async run(ctx) {
      const u = await ctx.api.request<User & Ended>('POST', `/users/${argPath(ctx)}/${action}`);
      const ended = action === 'disable' ? ` ${u.devicesSignedOut} phone session(s) ended, ${u.grantsRevoked} site authorization(s) revoked.` : '';
      return { json: u, text: `${u.username} is now ${u.status}.${ended}` };
    },
  })),
  {
    name: 'users:delete',
    summary: 'Delete a person with their passkeys, linked identities and authorizations; their sessions and tokens end first',
    args: ['user'],
    options: yesOption,
    async run(ctx) {
      const ref = ctx.args[0] ?? '';
      await confirmed(ctx, `delete ${ref} with everything of theirs`, ref);
      const u = await ctx.api.request<{ id: string; username: string } & Ended>('DELETE', `/users/${argPath(ctx)}`);
      return {
        json: u,
        text: `Deleted ${u.username} (${u.id}); ${u.devicesSignedOut} phone session(s) ended, ${u.grantsRevoked} site authorization(s) revoked.`,
      };
    },
  },
  {
    name: 'users:link',
    summary: "Link a person to their identity at a source: that source's sign-in for SUBJECT signs in as them",
    args: ['user'],
    options: {
      source: { type: 'string', required: true, help: 'the identity source id (sources:list)' },
      subject: { type: 'string', required: true, help: "the person's id at that source (the `sub` its assertions or ID tokens carry)" },
    },
    async run(ctx) {
      const out = await ctx.api.request<{ username: string; identity: Identity }>('POST', `/users/${argPath(ctx)}/identities`, {
        sourceId: ctx.values.source,
        subject: ctx.values.subject,
      });
      return { json: out, text: `Linked ${out.username} to ${out.identity.sourceName} as "${out.identity.subject}" (link ${out.identity.id}).` };
    },
  },
  {
    name: 'users:unlink',
    summary: 'Remove a linked identity from a person (by its link id, see users:show)',
    args: ['user', 'linkId'],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ username: string; linkId: string }>('DELETE', `/users/${argPath(ctx, 0)}/identities/${argPath(ctx, 1)}`);
      return { json: out, text: `Unlinked ${out.linkId} from ${out.username}.` };
    },
  },
  {
    name: 'users:sign-out',
    summary: "Sign out one of a person's devices (a phone they lost; its id from users:show): its token stops working at once",
    args: ['user', 'deviceId'],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ username: string; deviceId: string }>('DELETE', `/users/${argPath(ctx, 0)}/devices/${argPath(ctx, 1)}`);
      return { json: out, text: `Signed out ${out.deviceId} of ${out.username}; it can no longer approve logins.` };
    },
  },
  {
    name: 'authorizations:revoke',
    summary: "End a person's authorization for an app: its tokens for them stop working at once",
    args: ['user', 'appId'],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ username: string; appId: string }>('DELETE', `/users/${argPath(ctx, 0)}/authorizations/${argPath(ctx, 1)}`);
      return { json: out, text: `Revoked ${out.username}'s authorization for ${out.appId}. Their next login there asks again.` };
    },
  },
];
