// Sign in and sign up. A new account is signed in straight away. Besides the password: a
// passkey, and "Sign in with <organisation SSO>" for each single sign-on the admin configured.
import { api, session } from '../api.js';
import { h } from '../dom.js';
import { errorText } from '../errors.js';
import { summariseUserAgent } from '../format.js';
import { t } from '../i18n.js';
import { icon } from '../icons.js';
import { cancelled, passkeysAvailable, usePasskey } from '../webauthn.js';

export function authScreen(app, mode = 'signin') {
  const signup = mode === 'signup';
  const message = h('p', { class: 'message error', role: 'alert', id: 'auth-message' });
  if (app.signInError) {
    message.textContent = errorText(app.signInError);
    app.signInError = null;
  }
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

  // The other ways in, under the form (sign-in only).
  const others = h('div', { class: 'stack other-sign-in', id: 'other-sign-in' });
  if (!signup) {
    if (passkeysAvailable()) {
      const passkey = h('button', { type: 'button', class: 'secondary block', id: 'passkey-sign-in' }, icon('key'), h('span', {}, t('signInWithPasskey')));
      passkey.addEventListener('click', async () => {
        passkey.disabled = true;
        message.textContent = '';
        try {
          const options = await api('POST', '/login/passkey/options');
          const response = await usePasskey(options);
          const { token, user } = await api('POST', '/login/passkey', { response, deviceName: deviceName() });
          session.save(token, user);
          app.signedIn(user);
        } catch (err) {
          message.textContent = cancelled(err) ? t('passkeyCancelled') : errorText(err);
          passkey.disabled = false;
        }
      });
      others.append(passkey);
    }
    // Each SSO is a plain link: the browser goes to the organisation and comes back to /app.
    const here = app.alive();
    api('GET', '/sign-in-options').then(
      ({ sso }) =>
        here() &&
        others.append(...sso.map((s) => h('a', { class: 'button secondary block', href: s.url, dataset: { sso: s.id } }, t('signInWith', { name: s.name })))),
      () => {}, // offline: the password and passkey are still there
    );
  }

  return app.frame(
    { name: signup ? 'signup' : 'signin' },
    h(
      'section',
      { class: 'hero' },
      h('img', { src: '/static/app/icons/icon-192.png', alt: '', width: 72, height: 72 }),
      h('h1', {}, t(signup ? 'signUp' : 'signIn')),
      h('p', { class: 'muted' }, t('tagline')),
    ),
    app.takeNotice(),
    h('form', { class: 'stack', id: 'auth-form', onsubmit: onSubmit }, username, nickname, password, message, submit),
    signup ? null : others,
    h(
      'button',
      { type: 'button', class: 'link-button', id: 'auth-switch', onclick: () => app.show(authScreen, signup ? 'signin' : 'signup') },
      t(signup ? 'toSignIn' : 'toSignUp'),
    ),
  );
}

/** "Chrome on Android": how this phone appears in the account's device list and audit trail. */
export function deviceName() {
  const { browser, os } = summariseUserAgent(navigator.userAgent);
  return [browser ?? 'Browser', os ? `on ${os}` : ''].join(' ').trim().slice(0, 100);
}
