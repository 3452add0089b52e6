// Sign in and sign up. A new account is signed in straight away.
import { api, session } from '../api.js';
import { h } from '../dom.js';
import { errorText } from '../errors.js';
import { summariseUserAgent } from '../format.js';
import { t } from '../i18n.js';

export function authScreen(app, mode = 'signin') {
  const signup = mode === 'signup';
  const message = h('p', { class: 'message error', role: 'alert', id: 'auth-message' });
  const field = (id, label, attrs) => h('label', { class: 'field', for: id }, h('span', {}, label), h('input', { id, name: id, ...attrs }));
  const username = field('username', t('username'), {
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    maxlength: 32,
    ...(signup ? { minlength: 3, pattern: '[A-Za-z0-9_.\\-]+', title: t('err_username_format') } : {}),
  });
  const nickname = signup ? field('nickname', t('nickname'), { autocomplete: 'nickname', maxlength: 64 }) : null;
  const password = field('password', t('password'), {
    type: 'password',
    autocomplete: signup ? 'new-password' : 'current-password',
    required: true,
    ...(signup ? { minlength: 8, title: t('err_password_short') } : {}),
  });
  const submit = h('button', { type: 'submit', class: 'primary block', id: 'auth-submit' }, t(signup ? 'signUp' : 'signIn'));

  async function onSubmit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const values = Object.fromEntries(new FormData(form));
    submit.disabled = true;
    message.textContent = '';
    try {
      if (signup) {
        await api('POST', '/register', { username: values.username, password: values.password, ...(values.nickname ? { nickname: values.nickname } : {}) });
      }
      const { token, user } = await api('POST', '/login', { username: values.username, password: values.password, deviceName: deviceName() });
      session.save(token, user);
      if (signup) app.notice = t('welcome');
      app.signedIn(user);
    } catch (err) {
      message.textContent = errorText(err);
      submit.disabled = false;
    }
  }

  return app.frame(
    { name: signup ? 'signup' : 'signin' },
    h('section', { class: 'hero' }, h('img', { src: '/static/app/icons/icon-192.png', alt: '', width: 72, height: 72 }), h('h1', {}, t(signup ? 'signUp' : 'signIn')), h('p', { class: 'muted' }, t('tagline'))),
    app.takeNotice(),
    h('form', { class: 'stack', id: 'auth-form', onsubmit: onSubmit }, username, nickname, password, message, submit),
    h('button', { type: 'button', class: 'link-button', id: 'auth-switch', onclick: () => app.show(authScreen, signup ? 'signin' : 'signup') }, t(signup ? 'toSignIn' : 'toSignUp')),
  );
}

/** "Chrome on Android": how this phone appears in the account's device list and audit trail. */
function deviceName() {
  const { browser, os } = summariseUserAgent(navigator.userAgent);
  return [browser ?? 'Browser', os ? `on ${os}` : ''].join(' ').trim().slice(0, 100);
}
