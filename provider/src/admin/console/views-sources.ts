import type { PublicSource } from '../../identity/sources.js';
import { actionForm, badge, csrfField, field as plainField, html, page, table, when, type FieldSpec, type Html, type PageContext } from './html.js';

/** Fields of one form: ids prefixed, as the list page holds two forms with the same names. */
const fieldsOf = (prefix: string) => (f: FieldSpec) => plainField({ ...f, id: `${prefix}-${f.name}` });

/** The forms' values, as text (the routes turn them into the API's body). */
export type SourceForm = Record<'id' | 'name' | 'issuer' | 'audience' | 'jwksUrl' | 'jwks' | 'algorithms' | 'clientId' | 'clientSecret' | 'scopes', string>;

export const sourceForm = (s?: PublicSource): SourceForm => ({
  id: s?.id ?? '',
  name: s?.name ?? '',
  issuer: s?.issuer ?? '',
  audience: (s && 'audience' in s ? s.audience : '') ?? '',
  jwksUrl: (s && 'jwksUrl' in s ? s.jwksUrl : '') ?? '',
  jwks: s && 'jwks' in s && s.jwks ? JSON.stringify(s.jwks, null, 2) : '',
  algorithms: s && 'algorithms' in s ? s.algorithms.join(' ') : 'RS256 ES256',
  clientId: (s && 'clientId' in s ? s.clientId : '') ?? '',
  clientSecret: '',
  scopes: s && 'scopes' in s ? s.scopes.join(' ') : 'openid profile',
});

const KIND_TEXT = { assertion: "Trusted sign-in (the organisation's app)", oidc: 'Sign in with SSO (OpenID Connect, on /app)' } as const;

function assertionFields(v: SourceForm, issuerHint: string, field = fieldsOf('a')): Html {
  return html` ${field({ name: 'issuer', label: 'Issuer (iss)', value: v.issuer, required: true, hint: issuerHint })}
  ${field({ name: 'audience', label: 'Audience (aud)', value: v.audience, required: true, hint: "What the organisation's backend puts in aud, e.g. this provider's URL." })}
  ${field({ name: 'jwksUrl', label: 'JWKS URL', type: 'url', value: v.jwksUrl, placeholder: 'https://api.example.com/.well-known/jwks.json', hint: 'Where its public keys are published (https). Or paste them below.' })}
  ${field({ name: 'jwks', label: 'Public keys (JWK Set)', type: 'textarea', value: v.jwks, hint: 'Public keys only: {"keys": [...]}. Give a JWKS URL or keys, not both.' })}
  ${field({ name: 'algorithms', label: 'Allowed algorithms', value: v.algorithms, required: true, hint: 'Space-separated: RS256, ES256, PS256, EdDSA… (never none or HS*).' })}`;
}

function oidcFields(v: SourceForm, editing: boolean, field = fieldsOf('o')): Html {
  return html` ${field({ name: 'issuer', label: 'Issuer URL', type: 'url', value: v.issuer, required: true, placeholder: 'https://sso.example.com', hint: 'Its discovery document is at <issuer>/.well-known/openid-configuration.' })}
  ${field({ name: 'clientId', label: 'Client ID', value: v.clientId, required: true, hint: 'The client registered for Saoma at that provider.' })}
  ${field({ name: 'clientSecret', label: 'Client secret', type: 'password', value: '', autocomplete: 'off', hint: editing ? 'Left empty: unchanged. Stored encrypted, never shown again.' : 'Left empty: a public client (PKCE alone). Stored encrypted, never shown again.' })}
  ${field({ name: 'scopes', label: 'Scopes', value: v.scopes, hint: 'Space-separated; openid is always asked for.' })}`;
}

export function sourcesPage(ctx: PageContext, sources: PublicSource[], v: { kind?: 'assertion' | 'oidc'; values?: SourceForm } = {}): string {
  const rows = sources.map((s) => [
    html`<a href="/admin/sources/${s.id}">${s.name}</a>`,
    html`<code>${s.id}</code>`,
    html`${KIND_TEXT[s.kind]}`,
    badge(s.status),
    html`${s.links ?? 0}`,
    when(s.createdAt),
  ]);
  const values = (kind: 'assertion' | 'oidc') => (v.kind === kind && v.values ? v.values : sourceForm());
  const [a, o] = [fieldsOf('a'), fieldsOf('o')];
  return page(
    'Sign-in sources',
    { ...ctx, section: 'sources' },
    html` <h1>Sign-in sources</h1>
      <p class="lead">
        Where people's identities come from besides Saoma's own accounts: your organisation's app (it signs people in with a short-lived signed assertion) or
        your organisation's single sign-on (people choose it on the phone web app).
      </p>
      ${table(['Name', 'ID', 'Kind', 'Status', 'Linked people', 'Created'], rows, 'No sign-in sources yet.')}
      <div class="grid">
        <form class="card form" method="post" action="/admin/sources" id="assertion-form">
          ${csrfField(ctx.csrf)}<input type="hidden" name="kind" value="assertion" />
          <h2>${KIND_TEXT.assertion}</h2>
          ${a({ name: 'name', label: 'Name', value: values('assertion').name, required: true })}
          ${a({ name: 'id', label: 'ID', value: values('assertion').id, hint: 'What the app sends as "source". 3–20 lowercase letters, digits, "_" or "-"; left empty: generated.' })}
          ${assertionFields(values('assertion'), "The iss its backend's assertions carry.")}
          <div class="actions"><button class="btn primary" type="submit">Add trusted sign-in</button></div>
        </form>
        <form class="card form" method="post" action="/admin/sources" id="oidc-form">
          ${csrfField(ctx.csrf)}<input type="hidden" name="kind" value="oidc" />
          <h2>${KIND_TEXT.oidc}</h2>
          ${o({ name: 'name', label: 'Name', value: values('oidc').name, required: true, hint: 'People see "Sign in with <name>".' })}
          ${o({ name: 'id', label: 'ID', value: values('oidc').id, hint: 'Part of the redirect URI. Left empty: generated.' })}
          ${oidcFields(values('oidc'), false)}
          <div class="actions"><button class="btn primary" type="submit">Add SSO sign-in</button></div>
        </form>
      </div>`,
  );
}

export function sourcePage(ctx: PageContext, s: PublicSource, v: SourceForm = sourceForm(s)): string {
  const facts: Array<[string, Html | string | null | undefined]> = [
    ['ID', html`<code>${s.id}</code>`],
    ['Kind', KIND_TEXT[s.kind]],
    ['Linked people', String(s.links ?? 0)],
    ...('redirectUri' in s ? [['Redirect URI', html`<code id="redirect-uri">${s.redirectUri}</code>`] as [string, Html]] : []),
    ...('hasClientSecret' in s ? [['Client secret', s.hasClientSecret ? 'Set (never shown)' : 'None (public client, PKCE)'] as [string, string]] : []),
    ['Created', when(s.createdAt)],
    ['Updated', when(s.updatedAt)],
  ];
  const disabled = s.status === 'disabled';
  return page(
    s.name,
    { ...ctx, section: 'sources' },
    html` <p class="crumbs"><a href="/admin/sources">Sign-in sources</a></p>
      <h1>${s.name} ${badge(s.status)}</h1>
      <section class="card">
        <dl class="facts">
          ${facts.map(
            ([k, val]) =>
              html`<dt>${k}</dt>
                <dd>${val ?? html`<span class="muted">–</span>`}</dd>`,
          )}
        </dl>
        ${'redirectUri' in s ? html`<p class="hint">Register this redirect URI for the client at the provider.</p>` : html`<p class="hint">The organisation's app exchanges assertions at <code>POST /api/mobile/login/assertion</code> with <code>"source": "${s.id}"</code> (docs/NATIVE-APP.md).</p>`}
      </section>
      <form class="card form" method="post" action="/admin/sources/${s.id}" id="source-form">
        ${csrfField(ctx.csrf)}
        <h2>Edit</h2>
        ${plainField({ name: 'name', label: 'Name', value: v.name, required: true })}
        ${s.kind === 'assertion' ? assertionFields(v, 'The iss its assertions carry.', plainField) : oidcFields(v, true, plainField)}
        <div class="actions"><button class="btn primary" type="submit">Save changes</button></div>
      </form>
      <section class="card danger-zone">
        <h2>Status</h2>
        <p>
          ${disabled ? 'Disabled: nobody signs in through it; links are kept.' : 'Disabling stops sign-ins through it at once on every instance; people and their links stay.'}
        </p>
        <div class="actions">
          ${disabled ? actionForm(`/admin/sources/${s.id}/enable`, ctx.csrf, 'Enable') : actionForm(`/admin/sources/${s.id}/disable`, ctx.csrf, 'Disable', { kind: 'danger' })}
        </div>
        <form class="form" method="post" action="/admin/sources/${s.id}/delete">
          ${csrfField(ctx.csrf)}
          ${plainField({ name: 'confirm', label: `Type ${s.id} to delete it and its ${s.links ?? 0} link(s)`, autocomplete: 'off', required: true })}
          <div class="actions"><button class="btn danger" type="submit" data-enable-when="#f-confirm" data-expected="${s.id}">Delete source</button></div>
        </form>
      </section>`,
  );
}
