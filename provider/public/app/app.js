// The phone web app: boot, the screen switcher and the frame every screen sits in.
// Plain ES modules, no framework, no build step. Screens live in ./screens/.
import { api, session, whenSignedOut } from './api.js';
import { h } from './dom.js';
import { qrIdFromPath } from './format.js';
import { getLang, setLang, t } from './i18n.js';
import { icon } from './icons.js';
import { accountScreen } from './screens/account.js';
import { activityScreen } from './screens/activity.js';
import { authScreen, deviceName } from './screens/auth.js';
import { authorizationsScreen } from './screens/authorizations.js';
import { startLinkRequest } from './screens/confirm.js';
import { homeScreen } from './screens/home.js';
import { scanScreen } from './screens/scan.js';

const PENDING_QR = 'saoma.pendingQr';
const root = document.getElementById('app');

// One polite live region for the whole app, outside the screens that come and go: a screen
// reader speaks a region's changes only if the region was already in the page before them.
const announcer = h('p', { id: 'announcer', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
document.body.append(announcer);

const pending = {
  take() {
    try {
      const qrId = sessionStorage.getItem(PENDING_QR);
      sessionStorage.removeItem(PENDING_QR);
      return qrId;
    } catch {
      return null;
    }
  },
  put(qrId) {
    try {
      sessionStorage.setItem(PENDING_QR, qrId);
    } catch {
      // without storage the link is simply not resumed after sign-in
    }
  },
};

/** What every screen gets: how to render, navigate, and clean up when it is left. */
const app = {
  root,
  user: session.user(),
  offline: false,
  notice: null,
  /** An error for the sign-in screen to show once (a federated sign-in that came back failed). */
  signInError: null,
  current: null,
  leaving: [],

  /**
   * Replace the screen. `screen(app, ...args)` returns the nodes of its frame. When the person
   * was acting on the old screen (its button is now gone), the focus moves to the new screen's
   * heading, so a keyboard goes on from there and a screen reader reads where it now is.
   */
  show(screen, ...args) {
    for (const fn of this.leaving.splice(0)) fn();
    const active = document.activeElement;
    const acting = this.current !== null && (active === document.body || root.contains(active));
    this.current = { screen, args };
    root.replaceChildren(...screen(this, ...args));
    window.scrollTo(0, 0);
    const heading = root.querySelector('h1');
    if (acting && heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  },
  /** Says `text` through the live region (cleared first, so the same words are said again). */
  announce(text) {
    announcer.textContent = '';
    setTimeout(() => (announcer.textContent = text), 50);
  },
  /** Run `fn` when the current screen is replaced (timers, cameras, streams). */
  onLeave(fn) {
    this.leaving.push(fn);
  },
  /** A function telling an async loader whether its screen is still the one shown. */
  alive() {
    const mine = this.current;
    return () => this.current === mine;
  },
  /** A one-shot message for the next screen (e.g. "You have signed out."). */
  takeNotice() {
    const notice = this.notice;
    this.notice = null;
    return notice ? h('p', { class: 'notice', role: 'status' }, notice) : null;
  },
  go(hash) {
    if (location.hash === hash || (hash === '' && !location.hash)) route();
    else location.hash = hash;
  },
  /** After sign-in: resume the login a /q/ link was opened for, else the chosen tab. */
  signedIn(user) {
    this.user = user;
    this.offline = false;
    const qrId = pending.take();
    // A link shows the request first: it is scanned only once the person taps Continue.
    if (qrId) startLinkRequest(this, qrId);
    else route();
  },
  signedOut(notice) {
    session.clear();
    this.user = null;
    this.notice = notice;
    this.show(authScreen, 'signin');
  },
  /** The frame: top bar with the language switch, the screen's content, the tab bar. */
  frame({ name, tab }, ...content) {
    root.dataset.screen = name;
    delete root.dataset.result;
    delete root.dataset.camera;
    delete root.dataset.via;
    const toggle = h(
      'button',
      { class: 'lang-toggle', id: 'lang-toggle', type: 'button', lang: getLang() === 'zh' ? 'en' : 'zh-CN', onclick: () => this.switchLang() },
      t('otherLang'),
    );
    const top = h(
      'header',
      { class: 'topbar' },
      h('span', { class: 'brand' }, h('img', { src: '/static/app/icons/icon-192.png', alt: '', width: 28, height: 28 }), t('appName')),
      toggle,
    );
    const offline = this.offline ? h('p', { class: 'banner warn', role: 'status' }, t('offline')) : null;
    const tabs = tab && this.user ? tabBar(tab) : null;
    // Landmarks: the top bar, the screen itself (main), the tab bar (nav).
    return [top, offline, h('main', { class: 'content', id: 'content' }, ...content), tabs].filter(Boolean);
  },
  switchLang() {
    setLang(getLang() === 'zh' ? 'en' : 'zh');
    if (!this.current) return;
    this.show(this.current.screen, ...this.current.args);
    document.getElementById('lang-toggle')?.focus(); // stay on the switch, now in the other language
  },
};

function tabBar(active) {
  const tab = (name, hash, label, glyph) =>
    h(
      'a',
      { href: hash || '#', class: name === active ? 'active' : '', 'aria-current': name === active ? 'page' : false, id: `tab-${name}` },
      icon(glyph),
      h('span', {}, t(label)),
    );
  return h(
    'nav',
    { class: 'tabbar', 'aria-label': t('tabs') },
    tab('scan', '#/', 'tabScan', 'scan'),
    tab('authorizations', '#/authorizations', 'tabAuthorizations', 'shield'),
    tab('activity', '#/activity', 'tabActivity', 'clock'),
    tab('account', '#/account', 'tabAccount', 'user'),
  );
}

function route() {
  if (!session.token()) return app.show(authScreen, 'signin');
  const hash = location.hash.replace(/^#\/?/, '');
  if (hash === 'scan') return app.show(scanScreen);
  if (hash === 'authorizations') return app.show(authorizationsScreen);
  if (hash === 'activity') return app.show(activityScreen);
  if (hash === 'account') return app.show(accountScreen);
  return app.show(homeScreen);
}

/**
 * Back from a federated sign-in: `#sso=<one-time code>` is exchanged for a device session,
 * `#sso-error=<code>` is said on the sign-in screen. The fragment leaves the address bar first.
 */
async function ssoReturn() {
  const params = new URLSearchParams(location.hash.slice(1));
  const code = params.get('sso');
  const error = params.get('sso-error');
  if (!code && !error) return false;
  history.replaceState(null, '', '/app');
  if (error) {
    app.signInError = { code: error };
    return false;
  }
  try {
    const { token, user } = await api('POST', '/login/sso', { code, deviceName: deviceName() });
    session.save(token, user);
    app.signedIn(user);
    return true;
  } catch (err) {
    app.signInError = err;
    return false;
  }
}

async function boot() {
  // A phone camera opened ISSUER/q/:qrId: remember it across sign-in, show a clean URL.
  const qrId = qrIdFromPath(location.pathname);
  if (qrId) {
    pending.put(qrId);
    history.replaceState(null, '', '/app');
  }
  whenSignedOut(() => app.signedOut(t('sessionEnded')));
  window.addEventListener('hashchange', () => {
    if (session.token()) route();
  });
  if (await ssoReturn()) return;
  if (!session.token()) return app.show(authScreen, 'signin');
  try {
    const { user } = await api('GET', '/me');
    session.save(null, user);
    app.signedIn(user);
  } catch (err) {
    if (err.status === 401) return; // whenSignedOut has shown the sign-in screen
    // Offline or the server is down: the shell still opens with what this phone remembers.
    app.offline = true;
    route();
  }
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app' }).catch(() => {});
}

window.addEventListener('online', () => {
  if (app.offline && session.token()) {
    app.offline = false;
    if (app.current) app.show(app.current.screen, ...app.current.args);
  }
});

registerServiceWorker();
boot();
