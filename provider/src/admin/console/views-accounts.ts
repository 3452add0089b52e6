import type { PublicApp } from '../../apps/registry.js';
import type { PublicDeveloper } from '../developers.js';
import type { PublicAdmin } from '../admins.js';
import type { PublicToken } from '../tokens.js';
import type { Flash } from './session.js';
import { requestIdLine } from '../../http/html.js';
import { actionForm, badge, csrfField, field, html, Html, page, table, when, type PageContext } from './html.js';

export function loginPage(ctx: PageContext, v: { username?: string; next?: string }): string {
  return page(
    'Sign in',
    ctx,
    html` <form class="card form narrow" method="post" action="/admin/login" id="login-form">
      <h1>Sign in</h1>
      <p class="muted">Administrators of this Saoma provider.</p>
      <input type="hidden" name="next" value="${v.next ?? ''}" />
      ${field({ name: 'username', label: 'Username', value: v.username, required: true, autocomplete: 'username' })}
      ${field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' })}
      <div class="actions"><button class="btn primary" type="submit" id="login-submit">Sign in</button></div>
    </form>`,
  );
}

export function errorPage(ctx: PageContext, status: number, code: string, description: string): string {
  return page(
    `Error ${status}`,
    ctx,
    html`<section class="card narrow">
      <h1>${status === 404 ? 'Not found' : 'Something is wrong'}</h1>
      <p class="code">${code}</p>
      <p>${description}</p>
      ${new Html(requestIdLine())}
      <p><a href="/admin">Back to the console</a></p>
    </section>`,
  );
}

export function developersPage(ctx: PageContext, developers: PublicDeveloper[], v: { id?: string; name?: string } = {}): string {
  const rows = developers.map((d) => [html`<a href="/admin/developers/${d.id}">${d.name}</a>`, html`<code>${d.id}</code>`, html`${d.apps}`, when(d.createdAt)]);
  return page(
    'Developers',
    { ...ctx, section: 'developers' },
    html` <h1>Developer accounts</h1>
      <p class="lead">
        A developer account owns apps. A person gets the same <code>unionid</code> in every app of one account, and a different one in another account's apps.
      </p>
      ${table(['Name', 'ID', 'Apps', 'Created'], rows, 'No developer accounts yet.')}
      <form class="card form" method="post" action="/admin/developers" id="developer-form">
        ${csrfField(ctx.csrf)}
        <h2>New developer account</h2>
        ${field({ name: 'name', label: 'Name', value: v.name, required: true })}
        ${field({ name: 'id', label: 'ID', value: v.id, hint: 'Letters, digits, "_" and "-". Left empty: generated. It never changes (unionid is derived from it).' })}
        <div class="actions"><button class="btn primary" type="submit">Create</button></div>
      </form>`,
  );
}

export function developerPage(ctx: PageContext, d: PublicDeveloper, apps: PublicApp[]): string {
  const rows = apps.map((a) => [html`<a href="/admin/apps/${a.appId}">${a.name}</a>`, html`<code>${a.appId}</code>`, badge(a.status)]);
  return page(
    d.name,
    { ...ctx, section: 'developers' },
    html` <p class="crumbs"><a href="/admin/developers">Developers</a></p>
      <h1>${d.name} <code class="muted">${d.id}</code></h1>
      <section class="card">
        <h2>Apps</h2>
        ${table(['Name', 'AppID', 'Status'], rows, 'No apps.')}
      </section>
      <form class="card form" method="post" action="/admin/developers/${d.id}">
        ${csrfField(ctx.csrf)}
        <h2>Rename</h2>
        ${field({ name: 'name', label: 'Name', value: d.name, required: true })}
        <div class="actions"><button class="btn primary" type="submit">Save</button></div>
      </form>
      <section class="card danger-zone">
        <h2>Delete</h2>
        ${apps.length ? html`<p>Only an account without apps can be deleted.</p>` : actionForm(`/admin/developers/${d.id}/delete`, ctx.csrf, 'Delete developer account', { kind: 'danger' })}
      </section>`,
  );
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
  return page(
    'API tokens',
    { ...ctx, section: 'tokens' },
    html` <h1>API tokens</h1>
      <p class="lead">Bearer tokens for <code>/api/admin</code> over HTTP: <code>Authorization: Bearer sat_…</code>. Each can do anything an admin can.</p>
      ${
        created
          ? html`<section class="secret card" id="token-box">
              <h2>Token "${created.name}"</h2>
              <p><strong>Copy it now: it is shown this once.</strong></p>
              <div class="copyrow">
                <code id="admin-token">${created.token}</code><button type="button" class="btn secondary" data-copy="#admin-token">Copy</button>
              </div>
            </section>`
          : ''
      }
      ${table(['Name', 'ID', 'Status', 'Created by', 'Created', 'Last used', ''], rows, 'No tokens yet.')}
      <form class="card form" method="post" action="/admin/tokens" id="token-form">
        ${csrfField(ctx.csrf)}
        <h2>New token</h2>
        ${field({ name: 'name', label: 'Name', value: v.name, required: true, hint: 'What uses it, e.g. "deploy pipeline".' })}
        <div class="actions"><button class="btn primary" type="submit">Create token</button></div>
      </form>`,
  );
}

export function adminsPage(ctx: PageContext, admins: PublicAdmin[], v: { username?: string } = {}): string {
  const rows = admins.map((a) => [
    html`${a.username}`,
    badge(a.status),
    when(a.createdAt),
    a.status === 'active'
      ? actionForm(`/admin/admins/${a.id}/disable`, ctx.csrf, 'Disable', { kind: 'danger' })
      : actionForm(`/admin/admins/${a.id}/enable`, ctx.csrf, 'Enable'),
  ]);
  return page(
    'Admins',
    { ...ctx, section: 'admins' },
    html` <h1>Admins</h1>
      ${table(['Username', 'Status', 'Created', ''], rows, 'No admins.')}
      <div class="grid">
        <form class="card form" method="post" action="/admin/admins" id="admin-form">
          ${csrfField(ctx.csrf)}
          <h2>New admin</h2>
          ${field({ name: 'username', label: 'Username', value: v.username, required: true, autocomplete: 'off' })}
          ${field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 12 characters.' })}
          <div class="actions"><button class="btn primary" type="submit">Create admin</button></div>
        </form>
        <form class="card form" method="post" action="/admin/admins/password" id="password-form">
          ${csrfField(ctx.csrf)}
          <h2>Change your password</h2>
          ${field({ name: 'currentPassword', label: 'Current password', type: 'password', required: true, autocomplete: 'current-password' })}
          ${field({ name: 'password', label: 'New password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 12 characters. Your other console sessions are signed out.' })}
          <div class="actions"><button class="btn secondary" type="submit">Change password</button></div>
        </form>
      </div>`,
  );
}
