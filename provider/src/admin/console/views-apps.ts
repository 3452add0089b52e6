import type { PublicApp } from '../../apps/registry.js';
import type { PublicDeveloper } from '../developers.js';
import type { Flash } from './session.js';
import type { LoginCounts } from '../usage.js';
import { actionForm, badge, csrfField, field, html, page, table, when, type Html, type PageContext } from './html.js';

export type AppFormValues = Record<
  | 'name'
  | 'redirectUris'
  | 'postLogoutRedirectUris'
  | 'callbackDomain'
  | 'logoUrl'
  | 'homepage'
  | 'description'
  | 'developerId'
  | 'tokenEndpointAuthMethod'
  | 'idTokenSignedResponseAlg'
  | 'requirePkce'
  | 'requireUserVerification',
  string
>;

export const appFormValues = (a?: PublicApp): AppFormValues => ({
  name: a?.name ?? '',
  redirectUris: a?.redirectUris.join('\n') ?? '',
  postLogoutRedirectUris: a?.postLogoutRedirectUris.join('\n') ?? '',
  callbackDomain: a?.callbackDomain ?? '',
  logoUrl: a?.logoUrl ?? '',
  homepage: a?.homepage ?? '',
  description: a?.description ?? '',
  developerId: a?.developerId ?? 'dev_default',
  // An existing app not yet pinned shows (and keeps) "not yet pinned": '' is left unchanged.
  tokenEndpointAuthMethod: a ? (a.tokenEndpointAuthMethod ?? '') : 'client_secret_basic',
  idTokenSignedResponseAlg: a?.idTokenSignedResponseAlg ?? '',
  requirePkce: a ? String(a.requirePkce) : 'true',
  requireUserVerification: a?.requireUserVerification ? 'yes' : 'no',
});

const NOT_PINNED = 'Not yet pinned: the first method the site uses';

/** dev_default exists once its first app does; offer it before that too. */
const developerOptions = (developers: PublicDeveloper[]): Array<[string, string]> => [
  ...(developers.some((d) => d.id === 'dev_default') ? [] : [['dev_default', 'Default developer account (dev_default)'] as [string, string]]),
  ...developers.map((d): [string, string] => [d.id, `${d.name} (${d.id})`]),
];

const appLink = (a: { appId: string; name: string }) => html`<a href="/admin/apps/${a.appId}">${a.name}</a>`;

export function appsPage(ctx: PageContext, apps: PublicApp[], developers: PublicDeveloper[]): string {
  const devName = new Map(developers.map((d) => [d.id, d.name]));
  const rows = apps.map((a) => [
    html`${appLink(a)}
      <div class="muted small">${a.homepage ?? ''}</div>`,
    html`<code>${a.appId}</code>`,
    html`${devName.get(a.developerId) ?? a.developerId}`,
    badge(a.status),
    html`${a.redirectUris.length}`,
    when(a.createdAt),
  ]);
  return page(
    'Apps',
    { ...ctx, section: 'apps' },
    html` <div class="head">
        <h1>Apps</h1>
        <a class="btn primary" href="/admin/apps/new" id="new-app">New app</a>
      </div>
      <p class="lead">Websites that log people in with Saoma. Each has an AppID (the OIDC client_id) and an AppSecret.</p>
      ${table(['Name', 'AppID', 'Developer', 'Status', 'Redirect URIs', 'Created'], rows, 'No apps yet. Create the first one.')}`,
  );
}

export function appFormPage(
  ctx: PageContext,
  mode: 'new' | 'edit',
  v: AppFormValues,
  developers: PublicDeveloper[],
  algs: readonly string[],
  app?: PublicApp,
): string {
  const authOptions: Array<[string, string]> = [
    ...(v.tokenEndpointAuthMethod === '' ? [['', NOT_PINNED] as [string, string]] : []),
    ['client_secret_basic', 'client_secret_basic (HTTP Basic)'],
    ['client_secret_post', 'client_secret_post (form body)'],
  ];
  const algOptions: Array<[string, string]> = [
    ...(mode === 'new' ? [['', 'Default (RS256)'] as [string, string]] : []),
    ...algs.map((a): [string, string] => [a, a]),
  ];
  const action = mode === 'new' ? '/admin/apps' : `/admin/apps/${app!.appId}`;
  const title = mode === 'new' ? 'New app' : `Edit ${app!.name}`;
  return page(
    title,
    { ...ctx, section: 'apps' },
    html` <p class="crumbs"><a href="/admin/apps">Apps</a>${app ? html` / ${appLink(app)}` : ''}</p>
      <h1>${title}</h1>
      <form class="card form" method="post" action="${action}" id="app-form">
        ${csrfField(ctx.csrf)}
        ${field({ name: 'name', label: 'Name', value: v.name, required: true, hint: 'Shown on the QR page and on the phone when someone logs in.' })}
        ${field({ name: 'redirectUris', label: 'Redirect URIs', type: 'textarea', value: v.redirectUris, required: true, placeholder: 'https://example.com/callback', hint: 'One per line. Absolute, https (http only for localhost), no #fragment.' })}
        ${field({ name: 'postLogoutRedirectUris', label: 'After-logout redirect URIs', type: 'textarea', value: v.postLogoutRedirectUris, placeholder: 'https://example.com/', hint: 'Where the site may send people back after signing them out at /session/end (post_logout_redirect_uri). One per line, exact.' })}
        ${field({ name: 'callbackDomain', label: 'Callback domain', value: v.callbackDomain, placeholder: 'example.com', hint: 'WeChat-style: any redirect URI on this host is accepted by /connect/qrconnect.' })}
        ${field({ name: 'homepage', label: 'Homepage', type: 'url', value: v.homepage, placeholder: 'https://example.com' })}
        ${field({ name: 'logoUrl', label: 'Logo URL', type: 'url', value: v.logoUrl, placeholder: 'https://example.com/logo.png' })}
        ${field({ name: 'description', label: 'Description', type: 'textarea', value: v.description, hint: 'A note for administrators.' })}
        ${field({ name: 'developerId', label: 'Developer account', type: 'select', value: v.developerId, options: developerOptions(developers), hint: 'Apps of one developer account share unionid. Moving an app changes the unionid its users get.' })}
        ${field({ name: 'tokenEndpointAuthMethod', label: 'Client authentication', type: 'select', value: v.tokenEndpointAuthMethod, options: authOptions, hint: 'How the site sends its AppSecret to the token endpoint; only this method is accepted.' })}
        ${field({ name: 'idTokenSignedResponseAlg', label: 'ID token signing algorithm', type: 'select', value: v.idTokenSignedResponseAlg, options: algOptions, hint: 'RS256 is what a site expects unless it asks for another.' })}
        ${field({
          name: 'requirePkce',
          label: 'PKCE',
          type: 'select',
          value: v.requirePkce,
          options: [
            ['true', 'Required (S256)'],
            ['false', 'Optional'],
          ],
          hint: 'Required protects codes even if a redirect leaks one. WeChat-style logins are exempt either way.',
        })}
        ${field({
          name: 'requireUserVerification',
          label: 'Confirm with a passkey',
          type: 'select',
          value: v.requireUserVerification,
          options: [
            ['no', 'No: a signed-in phone confirms'],
            ['yes', "Yes: the person's passkey too (fingerprint, face or screen lock)"],
          ],
          hint: 'Required for every app when the deployment sets REQUIRE_USER_VERIFICATION.',
        })}
        <div class="actions">
          <button class="btn primary" type="submit" id="app-submit">${mode === 'new' ? 'Create app' : 'Save changes'}</button
          ><a class="btn secondary" href="${app ? `/admin/apps/${app.appId}` : '/admin/apps'}">Cancel</a>
        </div>
      </form>`,
  );
}

export interface AppDetail {
  app: PublicApp;
  developer: PublicDeveloper | null;
  usage: { last24h: LoginCounts; last30d: LoginCounts };
  authorized: Array<{ user: { id: string; username: string; nickname: string }; lastUsedAt: string; scopes: string[] }>;
  audit: Array<{ id: string; at: string; type: string; userId: string | null; ip: string | null; detail: unknown }>;
  secret?: Flash['appSecret'];
}

const COUNTS: Array<[keyof LoginCounts, string]> = [
  ['scanned', 'Scanned'],
  ['confirmed', 'Confirmed'],
  ['denied', 'Denied'],
  ['expired', 'Expired'],
  ['completed', 'Completed'],
];

function secretBox(s: NonNullable<AppDetail['secret']>): Html {
  return html`<section class="secret card" id="secret-box" aria-labelledby="secret-title">
    <h2 id="secret-title">AppSecret</h2>
    <p><strong>Copy it now: it is shown this once.</strong> Saoma keeps only a hash; if it is lost, rotate it.</p>
    <div class="copyrow"><code id="app-secret">${s.appSecret}</code><button type="button" class="btn secondary" data-copy="#app-secret">Copy</button></div>
    ${s.rotated ? (s.previousSecretExpiresAt ? html`<p class="muted">The previous secret keeps working until ${when(s.previousSecretExpiresAt)}.</p>` : html`<p class="muted">The previous secret has stopped working.</p>`) : ''}
  </section>`;
}

export function appDetailPage(ctx: PageContext, d: AppDetail): string {
  const { app } = d;
  const settings: Array<[string, Html | string | null]> = [
    ['AppID', html`<code id="app-id">${app.appId}</code>`],
    ['Redirect URIs', html`${app.redirectUris.map((u) => html`<code class="block">${u}</code>`)}`],
    [
      'After-logout redirect URIs',
      app.postLogoutRedirectUris.length ? html`${app.postLogoutRedirectUris.map((u) => html`<code class="block">${u}</code>`)}` : null,
    ],
    ['Callback domain', app.callbackDomain],
    ['Homepage', app.homepage ? html`<a href="${app.homepage}" rel="noopener noreferrer">${app.homepage}</a>` : null],
    ['Logo URL', app.logoUrl],
    ['Description', app.description],
    ['Developer', d.developer ? html`<a href="/admin/developers/${d.developer.id}">${d.developer.name}</a> <code>${d.developer.id}</code>` : app.developerId],
    ['Client authentication', app.tokenEndpointAuthMethod ?? NOT_PINNED],
    ['ID token algorithm', app.idTokenSignedResponseAlg],
    ['PKCE', app.requirePkce ? 'Required (S256)' : 'Optional'],
    ['Confirm with a passkey', app.requireUserVerification ? 'Required' : 'No'],
    ['Created', when(app.createdAt)],
    ['Updated', when(app.updatedAt)],
  ];
  const usageRows = COUNTS.map(([k, label]) => [
    html`${label}`,
    html`<span data-count="${k}-24h">${d.usage.last24h[k]}</span>`,
    html`<span data-count="${k}-30d">${d.usage.last30d[k]}</span>`,
  ]);
  const authorized = d.authorized.map((a) => [
    html`<a href="/admin/users/${a.user.id}">${a.user.nickname}</a> <span class="muted">@${a.user.username}</span>`,
    html`${a.scopes.join(' ')}`,
    when(a.lastUsedAt),
    actionForm(`/admin/users/${a.user.id}/authorizations/${app.appId}/revoke`, ctx.csrf, 'Revoke', { hidden: { back: `/admin/apps/${app.appId}` } }),
  ]);
  const audit = d.audit.map((e) => [
    when(e.at),
    html`<code>${e.type}</code>`,
    e.userId ? html`<a href="/admin/users/${e.userId}">${e.userId}</a>` : html`${actorText(e.detail)}`,
    html`${e.ip ?? ''}`,
  ]);
  return page(
    app.name,
    { ...ctx, section: 'apps' },
    html` <p class="crumbs"><a href="/admin/apps">Apps</a></p>
      <div class="head">
        <h1 class="app-title">
          ${app.logoUrl ? html`<img class="logo" src="${app.logoUrl}" alt="" />` : ''}<span id="app-name">${app.name}</span> ${badge(app.status)}
        </h1>
        <a class="btn secondary" href="/admin/apps/${app.appId}/edit" id="edit-app">Edit</a>
      </div>
      ${d.secret ? secretBox(d.secret) : ''}
      <div class="grid">
        <section class="card">
          <h2>Settings</h2>
          <dl class="settings">
            ${settings.map(
              ([k, v]) =>
                html`<dt>${k}</dt>
                  <dd>${v ?? html`<span class="muted">–</span>`}</dd>`,
            )}
          </dl>
        </section>
        <section class="card" id="usage">
          <h2>Logins</h2>
          ${table(['Outcome', 'Last 24 h', 'Last 30 days'], usageRows, '')}
          <p class="hint">Expired: scanned, then neither confirmed nor denied before the QR code timed out. Completed: the site received its code.</p>
        </section>
      </div>
      <div class="grid">
        <section class="card">
          <h2>AppSecret</h2>
          <p>
            Rotating issues a new secret, shown once.
            ${app.previousSecretExpiresAt ? html`The previous secret is accepted until ${when(app.previousSecretExpiresAt)}.` : ''}
          </p>
          <form method="post" action="/admin/apps/${app.appId}/secret" class="row">
            ${csrfField(ctx.csrf)}
            ${field({
              name: 'graceSeconds',
              label: 'Old secret keeps working',
              type: 'select',
              value: '0',
              options: [
                ['0', 'Stops at once'],
                ['3600', 'for 1 hour'],
                ['86400', 'for 24 hours'],
                ['604800', 'for 7 days'],
              ],
            })} <button class="btn secondary" type="submit" id="rotate-secret">Rotate secret</button>
          </form>
        </section>
        <section class="card">
          <h2>Status</h2>
          <p>
            ${app.status === 'active' ? 'Active: people can log in, and tokens work.' : 'Disabled: login attempts get an error page and the tokens issued to it stop working.'}
          </p>
          ${app.status === 'active' ? actionForm(`/admin/apps/${app.appId}/disable`, ctx.csrf, 'Disable app', { id: 'disable-app' }) : actionForm(`/admin/apps/${app.appId}/enable`, ctx.csrf, 'Enable app', { id: 'enable-app' })}
        </section>
      </div>
      <section class="card">
        <h2>People who authorized it</h2>
        ${table(['Person', 'Scopes', 'Last login', ''], authorized, 'Nobody has logged in to this app yet.')}
      </section>
      <section class="card">
        <h2>Audit trail</h2>
        ${table(['When', 'Event', 'Who', 'IP'], audit, 'No events yet.')}
      </section>
      <section class="card danger-zone">
        <h2>Delete</h2>
        <p>Deleting removes the app, every authorization people gave it and every token issued to it. It cannot be undone.</p>
        <a class="btn danger" href="/admin/apps/${app.appId}/delete" id="delete-app">Delete app…</a>
      </section>`,
  );
}

export function actorText(detail: unknown): string {
  const actor = (detail as { actor?: unknown } | null)?.actor;
  return typeof actor === 'string' ? actor : '';
}

export function appDeletePage(ctx: PageContext, app: PublicApp, typed = ''): string {
  return page(
    `Delete ${app.name}`,
    { ...ctx, section: 'apps' },
    html` <p class="crumbs"><a href="/admin/apps">Apps</a> / <a href="/admin/apps/${app.appId}">${app.name}</a></p>
      <h1>Delete ${app.name}?</h1>
      <form class="card form danger-zone" method="post" action="/admin/apps/${app.appId}/delete" id="delete-form">
        ${csrfField(ctx.csrf)}
        <p>
          This deletes <strong>${app.name}</strong> (<code>${app.appId}</code>), the authorizations people gave it and every token issued to it. The site can no
          longer log anyone in. This cannot be undone.
        </p>
        ${field({ name: 'confirmName', label: 'Type the app name to confirm', value: typed, required: true, autocomplete: 'off' })}
        <div class="actions">
          <button class="btn danger" type="submit" id="confirm-delete" data-enable-when="#f-confirmName" data-expected="${app.name}">Delete this app</button
          ><a class="btn secondary" href="/admin/apps/${app.appId}">Cancel</a>
        </div>
      </form>`,
  );
}
