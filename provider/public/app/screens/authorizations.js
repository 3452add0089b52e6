// My authorizations: the websites I let log me in, when, with what; revoke one (its tokens stop
// working at once: the server deletes the grants with their access and refresh tokens).
import { api } from '../api.js';
import { avatar, h, safeUrl } from '../dom.js';
import { errorText } from '../errors.js';
import { formatTime } from '../format.js';
import { getLang, has, t } from '../i18n.js';
import { rememberAppNames } from '../names.js';

export function authorizationsScreen(app) {
  const here = app.alive();
  const list = h('ul', { class: 'cards', id: 'authorizations', 'aria-busy': 'true' }, h('li', { class: 'muted' }, t('loading')));
  const notice = h('p', { class: 'notice', role: 'status', id: 'authorizations-notice', hidden: true });

  api('GET', '/authorizations').then(
    ({ authorizations }) => {
      rememberAppNames(authorizations.map((a) => [a.appId, a.name]));
      if (!here()) return;
      list.removeAttribute('aria-busy');
      list.replaceChildren(...(authorizations.length ? authorizations.map(item) : [h('li', { class: 'empty muted' }, t('noAuthorizations'))]));
    },
    (err) => here() && list.replaceChildren(h('li', { class: 'message error' }, errorText(err))),
  );

  function item(a) {
    const lang = getLang();
    const home = safeUrl(a.homepage);
    const scopes = a.scopes.map((s) => (has(`scope_${s}`) ? t(`scope_${s}`) : s)).join(lang === 'zh' ? '、' : ', ');
    const li = h('li', { class: 'card authorization', dataset: { appId: a.appId } });
    const revoke = h('button', { type: 'button', class: 'danger-outline small', onclick: ask }, t('revoke'));
    const actions = h('div', { class: 'actions' }, revoke);

    function ask() {
      // Asked in the page, not with window.confirm: readable, translatable, and testable.
      actions.replaceChildren(
        h('p', { class: 'ask' }, t('revokeAsk', { app: a.name })),
        h(
          'div',
          { class: 'row' },
          h('button', { type: 'button', class: 'secondary small', onclick: () => actions.replaceChildren(revoke) }, t('cancel')),
          h('button', { type: 'button', class: 'danger small', dataset: { action: 'revoke-confirm' }, onclick: doRevoke }, t('revoke')),
        ),
      );
    }

    async function doRevoke(event) {
      event.currentTarget.disabled = true;
      try {
        await api('DELETE', `/authorizations/${encodeURIComponent(a.appId)}`);
        li.remove();
        notice.textContent = t('revoked', { app: a.name });
        notice.hidden = false;
        if (!list.children.length) list.append(h('li', { class: 'empty muted' }, t('noAuthorizations')));
      } catch (err) {
        actions.replaceChildren(h('p', { class: 'message error' }, errorText(err)), revoke);
      }
    }

    li.append(
      h(
        'div',
        { class: 'card-head' },
        avatar(a.logoUrl, a.name, 'app-logo small'),
        h('div', {}, h('strong', { class: 'name' }, a.name), home ? h('p', { class: 'muted mono' }, new URL(home).host) : null),
      ),
      h('p', { class: 'scopes-line' }, scopes),
      h(
        'p',
        { class: 'muted small' },
        `${t('approvedOn', { date: formatTime(a.createdAt, lang) })} · ${t('lastUsed', { date: formatTime(a.lastUsedAt, lang) })}`,
      ),
      actions,
    );
    return li;
  }

  return app.frame(
    { name: 'authorizations', tab: 'authorizations' },
    h('h1', {}, t('myAuthorizations')),
    h('p', { class: 'muted' }, t('authorizationsLead')),
    notice,
    list,
  );
}
