// My account: how I can sign in (password, passkeys, my organisation's identities), adding a
// passkey on this phone and removing one; the devices signed in, and signing a lost one out.
import { api, session } from '../api.js';
import { h } from '../dom.js';
import { errorText } from '../errors.js';
import { formatTime } from '../format.js';
import { getLang, t } from '../i18n.js';
import { icon } from '../icons.js';
import { cancelled, createPasskey, passkeysAvailable } from '../webauthn.js';

export function accountScreen(app) {
  const here = app.alive();
  const user = app.user ?? session.user() ?? { nickname: '', username: '' };
  const methods = h('div', { id: 'sign-in-methods', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('loading')));
  const notice = h('p', { class: 'notice', role: 'status', id: 'account-notice', hidden: true });
  const message = h('p', { class: 'message error', role: 'alert', id: 'account-message' });
  const add = h('button', { type: 'button', class: 'primary block', id: 'add-passkey', onclick: addPasskey }, icon('key'), h('span', {}, t('addPasskey')));
  const say = (text) => {
    notice.textContent = text;
    notice.hidden = false;
    message.textContent = '';
  };

  async function load() {
    try {
      const [{ user: me, signInMethods }, { devices }] = await Promise.all([api('GET', '/me'), api('GET', '/devices')]);
      session.save(null, me);
      if (here()) render(signInMethods, devices);
    } catch (err) {
      if (here() && err.status !== 401) methods.replaceChildren(h('p', { class: 'message error' }, errorText(err)));
    }
  }

  async function addPasskey() {
    add.disabled = true;
    message.textContent = '';
    try {
      const options = await api('POST', '/passkeys/options');
      const response = await createPasskey(options);
      await api('POST', '/passkeys', { response, name: t('passkeyName') });
      say(t('passkeyAdded'));
      await load();
    } catch (err) {
      message.textContent = cancelled(err) ? t('passkeyCancelled') : errorText(err);
    } finally {
      add.disabled = false;
    }
  }

  /** A button's action: the button is off while the request runs; then a notice and the screen read again, or the error. */
  async function act(button, request, notice) {
    button.disabled = true;
    try {
      say(notice(await request()));
      await load();
    } catch (err) {
      message.textContent = errorText(err);
      button.disabled = false;
    }
  }

  const remove = (passkey, button) =>
    act(
      button,
      () => api('DELETE', `/passkeys/${encodeURIComponent(passkey.id)}`),
      () => t('passkeyRemoved', { name: passkey.name }),
    );
  const signOut = (device, button) =>
    act(
      button,
      () => api('DELETE', `/devices/${encodeURIComponent(device.id)}`),
      () => t('deviceSignedOut', { name: device.name || t('unnamedDevice') }),
    );
  const signOutOthers = (button) =>
    act(
      button,
      () => api('POST', '/devices/sign-out-others'),
      ({ signedOut }) => t('othersSignedOut', { n: String(signedOut) }),
    );

  function deviceItem(d, lang) {
    const name = d.name || t('unnamedDevice');
    const when = `${t('signedInOn', { date: formatTime(d.signedInAt, lang) })} · ${t('lastUsed', { date: formatTime(d.lastUsedAt, lang) })}`;
    let action = h('span', { class: 'muted small' }, t('thisDevice'));
    if (!d.current) {
      action = h(
        'button',
        { type: 'button', class: 'danger-outline small', dataset: { device: d.id }, 'aria-label': t('signOutDeviceNamed', { name }) },
        t('signOutDevice'),
      );
      action.addEventListener('click', () => signOut(d, action));
    }
    return h('li', { class: 'card method' }, h('div', {}, h('strong', {}, name), h('p', { class: 'muted small' }, when)), action);
  }

  function othersButton() {
    const button = h('button', { type: 'button', class: 'danger-outline block', id: 'sign-out-others' }, t('signOutOthers'));
    button.addEventListener('click', () => signOutOthers(button));
    return button;
  }

  function render(m, devices) {
    const lang = getLang();
    methods.removeAttribute('aria-busy');
    const passkeys = m.passkeys.map((k) => {
      const button = h(
        'button',
        { type: 'button', class: 'danger-outline small', dataset: { passkey: k.id }, 'aria-label': t('removePasskeyNamed', { name: k.name }) },
        t('remove'),
      );
      button.addEventListener('click', () => remove(k, button));
      return h(
        'li',
        { class: 'card method' },
        h(
          'div',
          {},
          h('strong', {}, k.name),
          h(
            'p',
            { class: 'muted small' },
            `${t('addedOn', { date: formatTime(k.createdAt, lang) })}${k.lastUsedAt ? ` · ${t('lastUsed', { date: formatTime(k.lastUsedAt, lang) })}` : ''}`,
          ),
        ),
        button,
      );
    });
    const identities = m.identities.map((i) =>
      h('li', { class: 'card method' }, h('div', {}, h('strong', {}, i.sourceName), h('p', { class: 'muted small mono' }, i.subject))),
    );
    methods.replaceChildren(
      h('section', { class: 'panel', id: 'method-password' }, h('h2', {}, t('password')), h('p', {}, m.password ? t('hasPassword') : t('noPassword'))),
      h(
        'section',
        { class: 'panel', id: 'method-passkeys' },
        h('h2', {}, t('passkeys')),
        h('p', { class: 'muted small' }, t('passkeysLead')),
        passkeys.length ? h('ul', { class: 'cards', id: 'passkeys' }, passkeys) : h('p', { id: 'no-passkeys' }, t('noPasskeys')),
        passkeysAvailable() ? add : h('p', { class: 'muted small' }, t('passkeysUnavailable')),
      ),
      h(
        'section',
        { class: 'panel', id: 'method-identities' },
        h('h2', {}, t('linkedIdentities')),
        identities.length ? h('ul', { class: 'cards', id: 'identities' }, identities) : h('p', {}, t('noIdentities')),
      ),
      h(
        'section',
        { class: 'panel', id: 'devices' },
        h('h2', {}, t('devices')),
        h('p', { class: 'muted small' }, t('devicesLead')),
        h(
          'ul',
          { class: 'cards' },
          devices.map((d) => deviceItem(d, lang)),
        ),
        devices.length > 1 ? othersButton() : null,
      ),
    );
  }

  load();
  return app.frame(
    { name: 'account', tab: 'account' },
    h('h1', {}, t('myAccount')),
    h('p', { class: 'muted' }, `${user.nickname || user.username} · @${user.username ?? ''}`),
    notice,
    message,
    methods,
  );
}
