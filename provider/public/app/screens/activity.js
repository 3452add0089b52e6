// My recent logins: the audit trail of my scans, confirms, denies and sign-ins.
import { api } from '../api.js';
import { h } from '../dom.js';
import { errorText } from '../errors.js';
import { formatAgo, formatTime, summariseUserAgent } from '../format.js';
import { getLang, has, t } from '../i18n.js';
import { icon } from '../icons.js';
import { appName, rememberAppNames } from '../names.js';

const GLYPH = {
  'qr.scanned': 'scan',
  'qr.confirmed': 'check',
  'qr.denied': 'cross',
  'login.completed': 'check',
  'login.denied': 'cross',
  'authorization.revoked': 'shield',
};

export function activityScreen(app) {
  const here = app.alive();
  const list = h('ul', { class: 'timeline', id: 'activity', 'aria-busy': 'true' }, h('li', { class: 'muted' }, t('loading')));

  // App names: the activity API gives app ids; names come from what this phone has seen.
  Promise.all([api('GET', '/activity'), api('GET', '/authorizations').catch(() => ({ authorizations: [] }))]).then(
    ([{ events }, { authorizations }]) => {
      if (!here()) return;
      rememberAppNames(authorizations.map((a) => [a.appId, a.name]));
      list.removeAttribute('aria-busy');
      list.replaceChildren(...(events.length ? events.map((e) => item(e)) : [h('li', { class: 'empty muted' }, t('noActivity'))]));
    },
    (err) => here() && list.replaceChildren(h('li', { class: 'message error' }, errorText(err))),
  );

  function item(e) {
    const lang = getLang();
    const key = `event_${e.type.replace(/\./g, '_')}`;
    const ua = summariseUserAgent(e.userAgent);
    const where = [e.ip, ua.browser && t('uaOn', { browser: ua.browser, os: ua.os ?? t('unknownOs') })].filter(Boolean).join(' · ');
    const computer = e.detail?.requesterIp ? t('computerIp', { ip: e.detail.requesterIp }) : null;
    return h(
      'li',
      { dataset: { type: e.type }, class: e.type.endsWith('denied') ? 'bad' : '' },
      icon(GLYPH[e.type] ?? 'user'),
      h(
        'div',
        {},
        h('strong', {}, has(key) ? t(key) : e.type),
        e.appId ? h('span', { class: 'app-name' }, ` · ${appName(e.appId) ?? e.appId}`) : null,
        h(
          'p',
          { class: 'muted small' },
          h('time', { datetime: e.at, title: formatTime(e.at, lang, true) }, formatAgo(e.at, lang)),
          where ? ` · ${where}` : '',
          computer ? ` · ${computer}` : '',
        ),
      ),
    );
  }

  return app.frame({ name: 'activity', tab: 'activity' }, h('h1', {}, t('recentLogins')), list);
}
