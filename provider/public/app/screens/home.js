// Home: who is signed in, the scan button, the paste-a-link fallback, sign out.
import { api, session } from '../api.js';
import { avatar, h } from '../dom.js';
import { t } from '../i18n.js';
import { icon } from '../icons.js';
import { pasteForm } from './paste.js';

export function homeScreen(app) {
  const user = app.user ?? session.user() ?? { nickname: '', username: '' };
  const signOut = h('button', { type: 'button', class: 'link-button muted-button', id: 'sign-out', onclick: onSignOut }, t('signOut'));

  async function onSignOut() {
    signOut.disabled = true;
    // The token must stop working on the server, but a phone offline can still forget it.
    await api('POST', '/logout').catch(() => {});
    app.signedOut(t('signedOut'));
  }

  return app.frame(
    { name: 'home', tab: 'scan' },
    h(
      'section',
      { class: 'me' },
      avatar(user.picture, user.nickname),
      h('div', {}, h('h1', { id: 'hello' }, t('hello', { name: user.nickname || user.username })), h('p', { class: 'muted' }, `@${user.username ?? ''}`)),
    ),
    app.takeNotice(),
    h(
      'button',
      { type: 'button', class: 'scan-button', id: 'scan-button', onclick: () => app.go('#/scan') },
      icon('scan', 'icon big'),
      h('span', {}, t('scan')),
    ),
    h('p', { class: 'muted center' }, t('scanHint')),
    pasteForm(app),
    h('p', { class: 'tip' }, icon('alert'), h('span', {}, t('tip'))),
    signOut,
  );
}
