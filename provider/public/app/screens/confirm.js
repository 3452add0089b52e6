// The confirm screen and its outcomes. What it shows follows RFC 10027 (cross-device flows BCP)
// §"User Experience" and §"Establish Proximity": who is asking (app name, logo, domain), what
// it gets (scopes in plain words), where the request came from (IP, browser, time), how long
// is left, a warning when the computer is on another network, and "Deny" as prominent as
// "Confirm".
import { api, serverNow } from '../api.js';
import { avatar, h, safeUrl } from '../dom.js';
import { formatAgo, formatCountdown, formatTime, summariseUserAgent } from '../format.js';
import { getLang, has, t } from '../i18n.js';
import { icon } from '../icons.js';
import { rememberAppNames } from '../names.js';
import { cancelled, passkeysAvailable, usePasskey } from '../webauthn.js';

/**
 * Scan (POST /scans) then show what is being asked; errors go to their result screen. `via`
 * says how the code arrived (camera engine, photo, paste, link) and stays on the confirm
 * screen as data-via, for diagnosis.
 */
export async function startConfirm(app, payload, via = 'paste') {
  app.show(checkingScreen);
  const alive = app.alive();
  try {
    const scan = await api('POST', '/scans', { payload });
    rememberAppNames([[scan.app?.appId, scan.app?.name]]);
    if (alive()) app.show(confirmScreen, { ...scan, via });
  } catch (err) {
    if (alive() && err.status !== 401) app.show(resultScreen, resultOf(err));
  }
}

/**
 * A login link (a /q/ URL opened from a chat, a page or another app): show the request first
 * and scan only after a tap. Nothing is bound meanwhile, so the browser that asked learns
 * nothing (not even who looked) until the person chooses to go on.
 */
export async function startLinkRequest(app, qrId) {
  app.show(checkingScreen);
  const alive = app.alive();
  try {
    const request = await api('GET', `/requests/${encodeURIComponent(qrId)}`);
    rememberAppNames([[request.app?.appId, request.app?.name]]);
    if (alive()) app.show(linkRequestScreen, request);
  } catch (err) {
    if (alive() && err.status !== 401) app.show(resultScreen, resultOf(err));
  }
}

function linkRequestScreen(app, request) {
  const site = request.app;
  const homepage = safeUrl(site.homepage);
  const go = h('button', { type: 'button', class: 'primary', id: 'link-continue', onclick: () => startConfirm(app, request.qrId, 'link') }, t('linkContinue'));
  const ignore = h('button', { type: 'button', class: 'secondary', id: 'link-ignore', onclick: () => app.go('#/') }, t('linkIgnore'));
  return app.frame(
    { name: 'link-request' },
    h(
      'section',
      { class: 'requesting-app' },
      avatar(site.logoUrl, site.name, 'app-logo'),
      h('h1', { id: 'link-title' }, t('linkTitle', { app: site.name })),
      h('p', { class: 'domain', id: 'link-domain', title: t('website') }, site.domain ?? (homepage ? new URL(homepage).host : '')),
      h('p', { class: 'muted' }, t('linkLead')),
    ),
    h('p', { class: 'tip' }, icon('alert'), h('span', {}, t('onlyIfYou'))),
    h('div', { class: 'decision' }, ignore, go),
  );
}

function checkingScreen(app) {
  app.announce(t('checking'));
  return app.frame({ name: 'checking' }, h('div', { class: 'centered' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('p', {}, t('checking'))));
}

function confirmScreen(app, scan) {
  const { app: site, requester } = scan;
  const expiresAt = Date.parse(scan.expiresAt);
  const countdown = h('strong', { id: 'confirm-countdown' });
  const bar = h('span', { class: 'fill' });
  scan.shownAt ??= serverNow();
  const total = Math.max(1000, expiresAt - scan.shownAt); // the bar starts full
  const message = h('p', { class: 'message error', role: 'alert' });

  const here = app.alive();
  const tick = () => {
    if (!here()) return;
    const left = expiresAt - serverNow();
    countdown.textContent = t('expiresIn', { time: formatCountdown(left) });
    bar.style.width = `${Math.max(0, Math.min(100, (left / total) * 100))}%`;
    if (left <= 0) app.show(resultScreen, { kind: 'qr_expired' });
  };
  const timer = setInterval(tick, 250);
  app.onLeave(() => clearInterval(timer));
  countdown.textContent = t('expiresIn', { time: formatCountdown(expiresAt - serverNow()) });
  setTimeout(tick, 0); // first check after this screen is in place (it may already be over)

  const deny = h('button', { type: 'button', class: 'deny', id: 'deny', onclick: () => decide('deny') }, icon('cross'), h('span', {}, t('deny')));
  const confirm = h(
    'button',
    { type: 'button', class: 'confirm', id: 'confirm', onclick: () => decide('confirm') },
    icon(scan.passkeyRequired ? 'key' : 'check'),
    h('span', {}, t(scan.passkeyRequired ? 'confirmWithPasskey' : 'confirm')),
  );
  const path = `/scans/${encodeURIComponent(scan.qrId)}`;

  /** When the site asks for it, the Confirm tap carries a fresh passkey assertion for this QR. */
  async function passkeyProof() {
    if (!passkeysAvailable()) throw Object.assign(new Error(t('passkeysUnavailable')), { code: 'passkeys_unavailable' });
    return { passkey: await usePasskey(await api('POST', `${path}/confirm/options`)) };
  }

  async function decide(what) {
    deny.disabled = confirm.disabled = true;
    message.textContent = '';
    const alive = app.alive();
    try {
      const body = what === 'confirm' && scan.passkeyRequired ? await passkeyProof() : undefined;
      const result = await api('POST', `${path}/${what}`, body);
      if (alive()) app.show(resultScreen, { kind: result.status, appName: site.name });
    } catch (err) {
      if (!alive() || err.code === 'invalid_token') return;
      // Nothing was decided; let the person try again while the code is alive.
      const retry = {
        network_error: t('networkError'),
        passkeys_unavailable: t('passkeysUnavailable'),
        passkey_invalid: t('err_passkey_invalid'),
        passkey_challenge_invalid: t('err_passkey_challenge_invalid'),
      }[err.code];
      if (retry || cancelled(err)) {
        message.textContent = retry ?? t('passkeyCancelled');
        deny.disabled = confirm.disabled = false;
      } else app.show(resultScreen, { ...resultOf(err), appName: site.name });
    }
  }

  const ua = summariseUserAgent(requester.userAgent);
  const uaText = t('uaOn', { browser: ua.browser ?? t('unknownBrowser'), os: ua.os ?? t('unknownOs') });
  const lang = getLang();
  const homepage = safeUrl(site.homepage);
  const scopes = (scan.scopes ?? []).map((s) => h('li', { dataset: { scope: s } }, icon('check'), h('span', {}, has(`scope_${s}`) ? t(`scope_${s}`) : s)));
  const row = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];

  const nodes = app.frame(
    { name: 'confirm' },
    h(
      'section',
      { class: 'requesting-app' },
      avatar(site.logoUrl, site.name, 'app-logo'),
      h('h1', { id: 'confirm-title' }, t('confirmTitle', { app: site.name })),
      h('p', { class: 'domain', id: 'confirm-domain', title: t('website') }, site.domain ?? (homepage ? new URL(homepage).host : '')),
      h('p', { class: 'muted' }, t('confirmLead')),
    ),
    requester.sameNetworkAsPhone === false
      ? h('p', { class: 'banner danger', role: 'alert', id: 'network-warning' }, icon('alert'), h('span', {}, t('networkWarning')))
      : null,
    h('section', { class: 'panel' }, h('h2', {}, t('willGet')), h('ul', { class: 'scopes', id: 'confirm-scopes' }, scopes)),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, t('requestFrom')),
      h(
        'dl',
        { class: 'facts', id: 'requester' },
        row(t('ip'), h('span', { id: 'requester-ip', class: 'mono' }, requester.ip || '—')),
        row(t('browser'), h('span', { id: 'requester-ua', title: requester.userAgent ?? '' }, uaText)),
        row(
          t('time'),
          h(
            'span',
            { id: 'requester-time' },
            `${formatTime(requester.createdAt, lang, true, serverNow())} · ${formatAgo(requester.createdAt, lang, serverNow())}`,
          ),
        ),
      ),
    ),
    h('div', { class: 'countdown' }, h('div', { class: 'bar' }, bar), countdown),
    scan.passkeyRequired ? h('p', { class: 'tip', id: 'passkey-required' }, icon('key'), h('span', {}, t('passkeyRequiredHint'))) : null,
    h('p', { class: 'tip' }, icon('alert'), h('span', {}, t('onlyIfYou'))),
    message,
    h('div', { class: 'decision' }, deny, confirm),
  );
  app.root.dataset.via = scan.via ?? '';
  return nodes;
}

/** Map an API error onto the result screen the person should see. */
function resultOf(err) {
  const known = ['qr_expired', 'already_scanned', 'not_yours', 'already_decided', 'invalid_qr', 'qr_not_found', 'no_passkey', 'user_verification_required'];
  if (known.includes(err.code)) return { kind: err.code };
  if (err.status === 410) return { kind: 'qr_expired' };
  if (err.status === 409) return { kind: 'already_scanned' };
  if (err.status === 403) return { kind: 'not_yours' };
  if (err.status === 404) return { kind: 'qr_not_found' };
  if (err.status === 400) return { kind: 'invalid_qr' };
  return { kind: 'error', detail: err.code === 'network_error' ? t('networkError') : err.message };
}

const LOOKS = {
  confirmed: ['ok', 'check'],
  denied: ['bad', 'cross'],
  qr_expired: ['warn', 'timer'],
  already_scanned: ['warn', 'user'],
  not_yours: ['bad', 'user'],
  no_passkey: ['warn', 'key'],
  user_verification_required: ['warn', 'key'],
};

export function resultScreen(app, { kind, appName = '', detail }) {
  const [tone, glyph] = LOOKS[kind] ?? ['warn', 'alert'];
  const title = has(`result_${kind}`) ? t(`result_${kind}`) : t('result_error');
  const body = detail ?? (has(`result_${kind}_body`) ? t(`result_${kind}_body`, { app: appName }) : '');
  const again = ['qr_expired', 'already_scanned', 'invalid_qr', 'qr_not_found', 'error'].includes(kind);
  // The outcome is said aloud too: the screen changed under the person's finger.
  app.announce(body ? `${title}${getLang() === 'zh' ? '。' : '. '}${body}` : title);
  const nodes = app.frame(
    { name: 'result' },
    h(
      'section',
      { class: `result ${tone}`, id: 'result' },
      h('div', { class: 'result-icon' }, icon(glyph)),
      h('h1', { id: 'result-title' }, title),
      h('p', { id: 'result-body' }, body),
    ),
    h(
      'div',
      { class: 'stack' },
      again ? h('button', { type: 'button', class: 'primary block', id: 'scan-again', onclick: () => app.go('#/scan') }, t('scanAgain')) : null,
      kind === 'no_passkey'
        ? h('button', { type: 'button', class: 'primary block', id: 'go-add-passkey', onclick: () => app.go('#/account') }, t('addPasskey'))
        : null,
      h(
        'button',
        { type: 'button', class: again || kind === 'no_passkey' ? 'secondary block' : 'primary block', id: 'done', onclick: () => app.go('#/') },
        t('done'),
      ),
    ),
  );
  app.root.dataset.result = kind;
  return nodes;
}
