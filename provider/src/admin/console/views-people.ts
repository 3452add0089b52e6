import type { PublicUser } from '../../accounts/users.js';
import type { LinkView } from '../../identity/links.js';
import type { PublicSource } from '../../identity/sources.js';
import type { PasskeyView } from '../../passkeys/passkeys.js';
import { actionForm, badge, csrfField, field, html, page, table, when, type PageContext } from './html.js';
import { actorText } from './views-apps.js';

type Person = PublicUser & { status: string; disabledAt: string | null };

export function usersPage(
  ctx: PageContext,
  users: Array<Person & { authorizations: number }>,
  q: string,
  v: { username?: string; nickname?: string } = {},
): string {
  const rows = users.map((u) => [
    html`<a href="/admin/users/${u.id}">${u.nickname}</a>`,
    html`@${u.username}`,
    html`<code>${u.id}</code>`,
    badge(u.status),
    html`${u.authorizations}`,
    when(u.createdAt),
  ]);
  return page(
    'Users',
    { ...ctx, section: 'users' },
    html` <h1>Users</h1>
      <form class="search" method="get" action="/admin/users" role="search">
        ${field({ name: 'q', label: 'Search by username, nickname or id', type: 'search', value: q })}<button class="btn secondary" type="submit">
          Search
        </button>
      </form>
      ${table(['Nickname', 'Username', 'ID', 'Status', 'Authorized apps', 'Joined'], rows, q ? 'Nobody matches.' : 'No users yet.')}
      <form class="card form" method="post" action="/admin/users" id="user-form">
        ${csrfField(ctx.csrf)}
        <h2>New person</h2>
        <p class="hint">Provision someone before their first sign-in, then link their identity at your organisation on their page.</p>
        ${field({ name: 'username', label: 'Username', value: v.username, required: true, autocomplete: 'off', hint: '3–32 letters, digits, "_", "." or "-".' })}
        ${field({ name: 'nickname', label: 'Nickname', value: v.nickname, hint: 'The name sites and the phone show. Left empty: the username.' })}
        ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: 'Left empty: no password; they sign in through a linked identity or a passkey.' })}
        <div class="actions"><button class="btn primary" type="submit">Create person</button></div>
      </form>`,
  );
}

export interface UserDetail {
  user: Person;
  methods: { password: boolean; passkeys: PasskeyView[]; identities: LinkView[] };
  sources: PublicSource[];
  authorizations: Array<{ appId: string; name: string; scopes: string[]; createdAt: string; lastUsedAt: string }>;
  devices: Array<{ id: string; name: string | null; signedInAt: string; lastUsedAt: string }>;
  audit: Array<{ at: string; type: string; appId: string | null; ip: string | null; detail: unknown }>;
}

export function userPage(ctx: PageContext, d: UserDetail, v: { sourceId?: string; subject?: string } = {}): string {
  const { user } = d;
  const rows = d.authorizations.map((a) => [
    html`<a href="/admin/apps/${a.appId}">${a.name}</a>`,
    html`${a.scopes.join(' ')}`,
    when(a.createdAt),
    when(a.lastUsedAt),
    actionForm(`/admin/users/${user.id}/authorizations/${a.appId}/revoke`, ctx.csrf, 'Revoke'),
  ]);
  const identities = d.methods.identities.map((i) => [
    html`<a href="/admin/sources/${i.sourceId}">${i.sourceName}</a>`,
    html`<code>${i.subject}</code>`,
    when(i.linkedAt),
    when(i.lastUsedAt),
    actionForm(`/admin/users/${user.id}/identities/${i.id}/unlink`, ctx.csrf, 'Unlink'),
  ]);
  const devices = d.devices.map((dev) => [
    html`${dev.name ?? 'Unnamed device'}`,
    html`<code>${dev.id}</code>`,
    when(dev.signedInAt),
    when(dev.lastUsedAt),
    actionForm(`/admin/users/${user.id}/devices/${dev.id}/sign-out`, ctx.csrf, 'Sign out', { kind: 'danger' }),
  ]);
  const passkeys = d.methods.passkeys.map((k) => [html`${k.name}`, html`${k.backedUp ? 'synced' : 'this device only'}`, when(k.createdAt), when(k.lastUsedAt)]);
  const audit = d.audit.map((e) => [
    when(e.at),
    html`<code>${e.type}</code>`,
    e.appId ? html`<a href="/admin/apps/${e.appId}">${e.appId}</a>` : html`${actorText(e.detail)}`,
    html`${e.ip ?? ''}`,
  ]);
  const sourceOptions = d.sources.map((s): [string, string] => [s.id, `${s.name} (${s.kind === 'oidc' ? 'SSO' : 'app'})`]);
  const disabled = user.status === 'disabled';
  return page(
    user.nickname,
    { ...ctx, section: 'users' },
    html` <p class="crumbs"><a href="/admin/users">Users</a></p>
      <h1>${user.nickname} <span class="muted">@${user.username}</span> ${badge(user.status)}</h1>
      <p class="muted"><code>${user.id}</code> · joined ${when(user.createdAt)}${disabled ? html` · disabled ${when(user.disabledAt)}` : ''}</p>
      <section class="card" id="sign-in-methods">
        <h2>Sign-in methods</h2>
        <p>Password: <strong>${d.methods.password ? 'yes' : 'none'}</strong></p>
        <h3>Passkeys</h3>
        ${table(['Name', 'Kind', 'Added', 'Last used'], passkeys, 'No passkeys. The person adds them on the phone (Account).')}
        <h3>Linked identities</h3>
        ${table(['Source', 'Subject', 'Linked', 'Last sign-in', ''], identities, 'No linked identities.')}
        ${
          d.sources.length
            ? html`<h3>Link an identity</h3>
                <form class="form" method="post" action="/admin/users/${user.id}/identities" id="link-form">
                  ${csrfField(ctx.csrf)}
                  ${field({ name: 'sourceId', label: 'Source', type: 'select', value: v.sourceId ?? d.sources[0]?.id, options: sourceOptions })}
                  ${field({ name: 'subject', label: 'Subject', value: v.subject, required: true, hint: "The person's id at that source: the sub its assertions or ID tokens carry." })}
                  <div class="actions"><button class="btn secondary" type="submit">Link identity</button></div>
                </form>`
            : html`<p class="hint">No identity sources yet: <a href="/admin/sources">add one</a> to link people to their organisation identity.</p>`
        }
      </section>
      <section class="card" id="devices">
        <h2>Signed-in devices</h2>
        <p class="hint">Signing out a device (a phone they lost) stops it approving logins at once, on every instance.</p>
        ${table(['Device', 'ID', 'Signed in', 'Last used', ''], devices, 'No device signed in.')}
      </section>
      <section class="card">
        <h2>Authorized apps</h2>
        <p class="hint">Revoking ends the app's tokens for this person at once; their next login asks again.</p>
        ${table(['App', 'Scopes', 'First', 'Last login', ''], rows, 'No authorized apps.')}
      </section>
      <section class="card">
        <h2>Activity</h2>
        ${table(['When', 'Event', 'App', 'IP'], audit, 'No activity yet.')}
      </section>
      <section class="card danger-zone">
        <h2>Access</h2>
        <p>
          ${disabled ? 'Enabled again, they sign in anew on each phone.' : 'Disabling signs out every phone of theirs and ends the sites\u2019 tokens for them at once; no sign-in works until enabled.'}
        </p>
        <div class="actions">
          ${disabled ? actionForm(`/admin/users/${user.id}/enable`, ctx.csrf, 'Enable', { id: 'enable-user' }) : actionForm(`/admin/users/${user.id}/disable`, ctx.csrf, 'Disable', { kind: 'danger', id: 'disable-user' })}
        </div>
        <form class="form" method="post" action="/admin/users/${user.id}/delete" id="delete-user">
          ${csrfField(ctx.csrf)}
          ${field({ name: 'confirm', label: `Type ${user.username} to delete this person with their passkeys, identities and authorizations`, autocomplete: 'off', required: true })}
          <div class="actions">
            <button class="btn danger" type="submit" data-enable-when="#f-confirm" data-expected="${user.username}">Delete person</button>
          </div>
        </form>
      </section>`,
  );
}
