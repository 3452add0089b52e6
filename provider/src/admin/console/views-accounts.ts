import type { PublicUser } from '../../accounts/users.js';
import type { PublicApp } from '../../apps/registry.js';
import type { PublicDeveloper } from '../developers.js';
import type { PublicAdmin } from '../admins.js';
import type { PublicToken } from '../tokens.js';
import type { Flash } from './session.js';
import { actionForm, badge, csrfField, field, html, page, table, when, type PageContext } from './html.js';
import { actorText } from './views-apps.js';

export function loginPage(ctx: PageContext, v: { username?: string; next?: string }): string {
  return page('Sign in', ctx, html`
    <form class="card form narrow" method="post" action="/admin/login" id="login-form">
      <h1>Sign in</h1>
      <p class="muted">Administrators of this Saoma provider.</p>
      <input type="hidden" name="next" value="${v.next ?? ''}">
      ${field({ name: 'username', label: 'Username', value: v.username, required: true, autocomplete: 'username' })}
      ${field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' })}
      <div class="actions"><button class="btn primary" type="submit" id="login-submit">Sign in</button></div>
    </form>`);
}

export function errorPage(ctx: PageContext, status: number, code: string, description: string): string {
  return page(`Error ${status}`, ctx, html`<section class="card narrow"><h1>${status === 404 ? 'Not found' : 'Something is wrong'}</h1><p class="code">${code}</p><p>${description}</p><p><a href="/admin">Back to the console</a></p></section>`);
}

export function developersPage(ctx: PageContext, developers: PublicDeveloper[], v: { id?: string; name?: string } = {}): string {
  const rows = developers.map((d) => [html`<a href="/admin/developers/${d.id}">${d.name}</a>`, html`<code>${d.id}</code>`, html`${d.apps}`, when(d.createdAt)]);
  return page('Developers', { ...ctx, section: 'developers' }, html`
    <h1>Developer accounts</h1>
    <p class="lead">A developer account owns apps. A person gets the same <code>unionid</code> in every app of one account, and a different one in another account's apps.</p>
    ${table(['Name', 'ID', 'Apps', 'Created'], rows, 'No developer accounts yet.')}
    <form class="card form" method="post" action="/admin/developers" id="developer-form">${csrfField(ctx.csrf)}<h2>New developer account</h2>
      ${field({ name: 'name', label: 'Name', value: v.name, required: true })}
      ${field({ name: 'id', label: 'ID', value: v.id, hint: 'Letters, digits, "_" and "-". Left empty: generated. It never changes (unionid is derived from it).' })}
      <div class="actions"><button class="btn primary" type="submit">Create</button></div></form>`);
}

export function developerPage(ctx: PageContext, d: PublicDeveloper, apps: PublicApp[]): string {
  const rows = apps.map((a) => [html`<a href="/admin/apps/${a.appId}">${a.name}</a>`, html`<code>${a.appId}</code>`, badge(a.status)]);
  return page(d.name, { ...ctx, section: 'developers' }, html`
    <p class="crumbs"><a href="/admin/developers">Developers</a></p>
    <h1>${d.name} <code class="muted">${d.id}</code></h1>
    <section class="card"><h2>Apps</h2>${table(['Name', 'AppID', 'Status'], rows, 'No apps.')}</section>
    <form class="card form" method="post" action="/admin/developers/${d.id}">${csrfField(ctx.csrf)}<h2>Rename</h2>
      ${field({ name: 'name', label: 'Name', value: d.name, required: true })}
      <div class="actions"><button class="btn primary" type="submit">Save</button></div></form>
    <section class="card danger-zone"><h2>Delete</h2>${apps.length ? html`<p>Only an account without apps can be deleted.</p>` : actionForm(`/admin/developers/${d.id}/delete`, ctx.csrf, 'Delete developer account', { kind: 'danger' })}</section>`);
}

export function usersPage(ctx: PageContext, users: Array<PublicUser & { authorizations: number }>, q: string): string {
  const rows = users.map((u) => [html`<a href="/admin/users/${u.id}">${u.nickname}</a>`, html`@${u.username}`, html`<code>${u.id}</code>`, html`${u.authorizations}`, when(u.createdAt)]);
  return page('Users', { ...ctx, section: 'users' }, html`
    <h1>Users</h1>
    <form class="search" method="get" action="/admin/users" role="search">${field({ name: 'q', label: 'Search by username, nickname or id', type: 'search', value: q })}<button class="btn secondary" type="submit">Search</button></form>
    ${table(['Nickname', 'Username', 'ID', 'Authorized apps', 'Joined'], rows, q ? 'Nobody matches.' : 'No users yet.')}`);
}

export interface UserDetail {
  user: PublicUser;
  authorizations: Array<{ appId: string; name: string; scopes: string[]; createdAt: string; lastUsedAt: string }>;
  audit: Array<{ at: string; type: string; appId: string | null; ip: string | null; detail: unknown }>;
}

export function userPage(ctx: PageContext, d: UserDetail): string {
  const rows = d.authorizations.map((a) => [
    html`<a href="/admin/apps/${a.appId}">${a.name}</a>`,
    html`${a.scopes.join(' ')}`,
    when(a.createdAt),
    when(a.lastUsedAt),
    actionForm(`/admin/users/${d.user.id}/authorizations/${a.appId}/revoke`, ctx.csrf, 'Revoke'),
  ]);
  const audit = d.audit.map((e) => [when(e.at), html`<code>${e.type}</code>`, e.appId ? html`<a href="/admin/apps/${e.appId}">${e.appId}</a>` : html`${actorText(e.detail)}`, html`${e.ip ?? ''}`]);
  return page(d.user.nickname, { ...ctx, section: 'users' }, html`
    <p class="crumbs"><a href="/admin/users">Users</a></p>
    <h1>${d.user.nickname} <span class="muted">@${d.user.username}</span></h1>
    <p class="muted"><code>${d.user.id}</code> · joined ${when(d.user.createdAt)}</p>
    <section class="card"><h2>Authorized apps</h2><p class="hint">Revoking ends the app's tokens for this person at once; their next login asks again.</p>${table(['App', 'Scopes', 'First', 'Last login', ''], rows, 'No authorized apps.')}</section>
    <section class="card"><h2>Activity</h2>${table(['When', 'Event', 'App', 'IP'], audit, 'No activity yet.')}</section>`);
}

export function tokensPage(ctx: PageContext, tokens: PublicToken[], created?: Flash['adminToken'], v: { name?: string } = {}): string {
  const rows = tokens.map((t) => [
    html`${t.name}`,
    html`<code>${t.id}</code>`,
    badge(t.status),
    html`${t.createdBy}`,
    when(t.createdAt),
    when(t.lastUsedAt),
    t.status === 'active' ? actionForm(`/admin/tokens/${t.id}/revoke`, ctx.csrf, 'Revoke', { kind: 'danger' }) : html``,
  ]);
  return page('API tokens', { ...ctx, section: 'tokens' }, html`
    <h1>API tokens</h1>
    <p class="lead">Bearer tokens for <code>/api/admin</code> over HTTP: <code>Authorization: Bearer sat_…</code>. Each can do anything an admin can.</p>
    ${created ? html`<section class="secret card" id="token-box"><h2>Token "${created.name}"</h2><p><strong>Copy it now: it is shown this once.</strong></p><div class="copyrow"><code id="admin-token">${created.token}</code><button type="button" class="btn secondary" data-copy="#admin-token">Copy</button></div></section>` : ''}
    ${table(['Name', 'ID', 'Status', 'Created by', 'Created', 'Last used', ''], rows, 'No tokens yet.')}
    <form class="card form" method="post" action="/admin/tokens" id="token-form">${csrfField(ctx.csrf)}<h2>New token</h2>
      ${field({ name: 'name', label: 'Name', value: v.name, required: true, hint: 'What uses it, e.g. "deploy pipeline".' })}
      <div class="actions"><button class="btn primary" type="submit">Create token</button></div></form>`);
}

export function adminsPage(ctx: PageContext, admins: PublicAdmin[], v: { username?: string } = {}): string {
  const rows = admins.map((a) => [
    html`${a.username}`,
    badge(a.status),
    when(a.createdAt),
    a.status === 'active' ? actionForm(`/admin/admins/${a.id}/disable`, ctx.csrf, 'Disable', { kind: 'danger' }) : actionForm(`/admin/admins/${a.id}/enable`, ctx.csrf, 'Enable'),
  ]);
  return page('Admins', { ...ctx, section: 'admins' }, html`
    <h1>Admins</h1>
    ${table(['Username', 'Status', 'Created', ''], rows, 'No admins.')}
    <div class="grid">
      <form class="card form" method="post" action="/admin/admins" id="admin-form">${csrfField(ctx.csrf)}<h2>New admin</h2>
        ${field({ name: 'username', label: 'Username', value: v.username, required: true, autocomplete: 'off' })}
        ${field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 12 characters.' })}
        <div class="actions"><button class="btn primary" type="submit">Create admin</button></div></form>
      <form class="card form" method="post" action="/admin/admins/password" id="password-form">${csrfField(ctx.csrf)}<h2>Change your password</h2>
        ${field({ name: 'currentPassword', label: 'Current password', type: 'password', required: true, autocomplete: 'current-password' })}
        ${field({ name: 'password', label: 'New password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 12 characters. Your other console sessions are signed out.' })}
        <div class="actions"><button class="btn secondary" type="submit">Change password</button></div></form>
    </div>`);
}
