import type { KeySummary } from '../../keys/keyring.js';
import { badge, csrfField, field, html, page, table, when, type PageContext } from './html.js';

const STATE_TEXT: Record<KeySummary['state'], string> = {
  active: 'signs now',
  pending: 'published, signs from the date shown',
  retiring: 'published for what it signed',
  retired: 'gone',
};

/** The provider's keys: when each signs and retires, a rotation, and the way to a leaked key's removal. */
export function keysPage(ctx: PageContext, keys: KeySummary[], v: { kind?: string; lead?: string } = {}): string {
  const rows = (kind: KeySummary['kind']) =>
    keys
      .filter((k) => k.kind === kind)
      .map((k) => [
        html`<a href="/admin/keys/${k.id}"><code>${k.id}</code></a>`,
        html`${k.alg ?? k.kty ?? '–'}`,
        html`${badge(k.state)} <span class="muted">${STATE_TEXT[k.state]}</span>`,
        when(k.activeAt),
        when(k.retireAt),
      ]);
  return page(
    'Keys',
    { ...ctx, section: 'keys' },
    html` <h1>Keys</h1>
      <p class="lead">
        The keys that sign ID tokens (published in the JWKS) and the provider's cookies, shared by every instance. A rotation publishes new keys at once, signs
        with them after the lead time and retires the old ones once what they signed has expired: nothing in flight breaks.
      </p>
      <h2>ID token signing keys</h2>
      ${table(['ID', 'Algorithm', 'State', 'Signs from', 'Retires'], rows('signing'), 'No signing keys.')}
      <h2>Cookie keys</h2>
      ${table(['ID', 'Kind', 'State', 'Signs from', 'Retires'], rows('cookie'), 'No cookie keys.')}
      <form class="card form" method="post" action="/admin/keys/rotate" id="rotate-form">
        ${csrfField(ctx.csrf)}
        <h2>Rotate</h2>
        ${field({
          name: 'kind',
          label: 'Keys',
          type: 'select',
          value: v.kind ?? 'all',
          options: [
            ['all', 'Signing and cookie keys'],
            ['signing', 'Signing keys'],
            ['cookie', 'Cookie keys'],
          ],
        })}
        ${field({
          name: 'lead',
          label: 'Lead time (seconds)',
          value: v.lead,
          hint: 'Between publishing and signing. Left empty: 86400 for signing keys (longer than sites cache a JWKS), 300 for cookie keys.',
        })}
        <div class="actions"><button class="btn primary" type="submit">Rotate</button></div>
      </form>
      <p class="hint">A key that leaked must not wait for a rotation: open it and remove it at once.</p>`,
  );
}

export function keyPage(ctx: PageContext, k: KeySummary): string {
  return page(
    k.id,
    { ...ctx, section: 'keys' },
    html` <p class="crumbs"><a href="/admin/keys">Keys</a></p>
      <h1><code>${k.id}</code> ${badge(k.state)}</h1>
      <dl class="settings">
        <dt>Kind</dt>
        <dd>${k.kind === 'signing' ? 'ID token signing key' : 'Cookie key'}</dd>
        <dt>Algorithm</dt>
        <dd>${k.alg ?? k.kty ?? '–'}</dd>
        <dt>Published</dt>
        <dd>${when(k.publishAt)}</dd>
        <dt>Signs from</dt>
        <dd>${when(k.activeAt)}</dd>
        <dt>Retires</dt>
        <dd>${when(k.retireAt)}</dd>
      </dl>
      <section class="card danger-zone">
        <h2>Remove now (the key leaked)</h2>
        <p>
          The key is deleted with its private part and leaves every instance at once. If it signs now, a new key signs in its place in the same step. What it
          signed stops verifying: ${k.kind === 'signing' ? 'ID tokens, once sites re-fetch the JWKS.' : 'logins in progress start again.'}
        </p>
        <form class="form" method="post" action="/admin/keys/${k.id}/remove" id="remove-key">
          ${csrfField(ctx.csrf)} ${field({ name: 'confirm', label: `Type ${k.id} to remove this key`, autocomplete: 'off', required: true })}
          <div class="actions">
            <button class="btn danger" type="submit" data-enable-when="#f-confirm" data-expected="${k.id}">Remove key</button>
          </div>
        </form>
      </section>`,
  );
}
