/**
 * wxLogin.js and the embedded QR's own script.
 *
 * DESIGN — an embedded QR that works across sites, without cookies
 *
 * WeChat's `new WxLogin({id, appid, scope, redirect_uri, state, style, href, self_redirect})`
 * puts an iframe of `…/connect/qrconnect?…&login_type=jssdk` into the site's element `id`;
 * after the phone confirms, the top window (or, with `self_redirect: true`, the iframe) goes to
 * `redirect_uri?code&state`. Three browser facts shape how we do the same:
 *
 * 1. No cookies in the iframe. The iframe is a third-party (cross-site) context. oidc-provider's
 *    interaction cookies are SameSite=Lax: a cross-site iframe response cannot set them and its
 *    requests do not carry them (and third-party cookies may be blocked outright). So the
 *    embedded login does not use an oidc-provider interaction at all: /connect/qrconnect with
 *    `login_type=jssdk` validates the request, stores it under an unguessable single-use embed
 *    token (192 bits, 30 min, embed.ts) and renders the QR with that token inside the page
 *    (a JSON script block, not a URL the parent can read). The iframe's script long-polls
 *    `/connect/embed/<token>/status`; `/connect/embed/<token>/complete` claims the decided QR
 *    once (compare-and-set), mints the Grant and the single-use 600 s AuthorizationCode through
 *    oidc-provider's models, and 302s to `redirect_uri?code&state` (`?state` when denied).
 *    Nothing in the flow depends on a cookie, first- or third-party.
 *
 * 2. A cross-origin iframe may not navigate the top window without user activation. Chromium's
 *    framebusting intervention (Chrome 68, chromestatus 5851021045661696; Safari 13 and Firefox
 *    144 followed) blocks `top.location = …` from a cross-origin frame that has no sticky user
 *    activation (it throws SecurityError), and a person who scans with a phone never clicks the
 *    iframe. Chromium exempts a destination same-origin with the top page — why WeChat's own
 *    iframe can jump straight to `redirect_uri?code` — but our completion URL is on the
 *    provider, and the code must not sit in the iframe's script anyway. The page that may
 *    navigate the top window freely is the top window itself, and wxLogin.js runs there (it is
 *    the site's page). So on `confirmed` the iframe posts `{type: 'saoma:wxlogin', action:
 *    'navigate', url: <complete URL>}` to its parent, and wxLogin.js, after checking that the
 *    message comes from our origin and from the iframe it created (and that the URL is one of
 *    our /connect/embed/ URLs — it must not be an open redirect), navigates its own window.
 *    The complete URL is then a top-level, first-party navigation that 302s to the site.
 *    With `self_redirect: true` the iframe navigates itself instead, which is always allowed.
 *
 * 3. The complete URL is a bearer capability (whoever opens it gets the code), so it is posted
 *    only to a verified parent: wxLogin.js passes `parent_origin=location.origin`, the server
 *    accepts it only when it is one of the app's own origins (its callback domain, or the
 *    origins of its registered redirect URIs), and the iframe posts with that exact
 *    `targetOrigin`, so the browser drops the message if the real parent is anyone else. An
 *    unverified embedder (a page elsewhere, or a hand-made iframe without wxLogin.js) gets no
 *    message: the iframe tries `top.location` (works when framed same-origin or after a click)
 *    and shows a "Continue" link with `target=_top` — a click is user activation, which the
 *    intervention allows. Either way the code only ever travels to the verified redirect_uri.
 *    (Someone who fetches the iframe page server-side and shows its QR to a victim learns
 *    nothing more than by starting a normal login and showing that QR: the QR-phishing risk
 *    every QR login has, answered on the phone by the requester's IP and network warning.)
 *
 * The iframe page sends `Content-Security-Policy: frame-ancestors *` (WeChat's QR can be
 * embedded anywhere; what it reveals is guarded as above) and no X-Frame-Options.
 */

/** `GET /connect/wxLogin.js`: WeChat's constructor, pointed at this provider. ES5, no build step. */
export function wxLoginScript(issuer: string): string {
  const origin = new URL(issuer).origin;
  return `/* Saoma wxLogin.js: WeChat-compatible embedded QR login. */
(function (window, document) {
  'use strict';
  var ISSUER = ${JSON.stringify(issuer)};
  var ORIGIN = ${JSON.stringify(origin)};
  // WeChat concatenates redirect_uri and state as given (sites pass them URL-encoded); values
  // that are already a valid query component go through untouched, anything else is encoded.
  var SAFE = /^(?:[A-Za-z0-9\\-._~!$'()*,;:@\\/?=]|%[0-9A-Fa-f]{2})*$/;
  function q(v) {
    if (v === undefined || v === null) return '';
    v = String(v);
    return SAFE.test(v) ? v : encodeURIComponent(v);
  }
  function WxLogin(opts) {
    if (!(this instanceof WxLogin)) return new WxLogin(opts);
    opts = opts || {};
    var selfRedirect = opts.self_redirect === true ? 'true' : opts.self_redirect === false ? 'false' : 'default';
    var src = ISSUER + '/connect/qrconnect?appid=' + q(opts.appid) + '&scope=' + q(opts.scope) +
      '&redirect_uri=' + q(opts.redirect_uri) + '&state=' + q(opts.state) + '&login_type=jssdk&self_redirect=' + selfRedirect +
      '&styletype=' + q(opts.styletype) + '&sizetype=' + q(opts.sizetype) + '&bgcolor=' + q(opts.bgcolor) + '&rst=' + q(opts.rst);
    if (opts.style) src += '&style=' + q(opts.style);
    if (opts.href) src += '&href=' + q(opts.href);
    if (opts.lang) src += '&lang=' + q(opts.lang);
    src += '&parent_origin=' + encodeURIComponent(window.location.origin);

    var box = document.getElementById(opts.id);
    if (!box) throw new Error('WxLogin: no element with id "' + opts.id + '"');
    var frame = document.createElement('iframe');
    frame.src = src;
    frame.title = 'QR code login';
    frame.frameBorder = '0';
    frame.allowTransparency = 'true';
    frame.scrolling = 'no';
    frame.width = '300px';
    frame.height = '400px';
    box.innerHTML = '';
    box.appendChild(frame);

    function onMessage(e) {
      if (e.origin !== ORIGIN || e.source !== frame.contentWindow) return;
      var d = e.data;
      if (!d || d.type !== 'saoma:wxlogin') return;
      if (d.action === 'ready' && typeof opts.onReady === 'function') opts.onReady(true);
      if (d.action === 'navigate' && typeof d.url === 'string' && d.url.indexOf(ISSUER + '/connect/embed/') === 0) {
        window.location.href = d.url;
      }
    }
    window.addEventListener('message', onMessage);
    this.frame = frame;
    this.destroy = function () {
      window.removeEventListener('message', onMessage);
      if (frame.parentNode) frame.parentNode.removeChild(frame);
      if (typeof opts.onCleanup === 'function') opts.onCleanup();
    };
  }
  window.WxLogin = WxLogin;
})(window, document);
`;
}

/** `GET /connect/embed/frame.js`: keeps the embedded QR live and finishes as described above. */
export const FRAME_SCRIPT = `(function () {
  'use strict';
  var root = document.getElementById('wx-root');
  if (!root) return;
  var cfg = JSON.parse(document.getElementById('wx-config').textContent);
  var t = cfg.text;
  var base = '/connect/embed/' + encodeURIComponent(cfg.token);
  var completeUrl = new URL(base + '/complete', location.href).href;
  var state = { qrId: cfg.qrId, status: cfg.status };
  var finished = false;
  var refreshing = false;
  function el(id) { return document.getElementById(id); }
  function show(status, text) { root.setAttribute('data-status', status); el('wx-status').textContent = text; }
  function post(message) {
    if (cfg.parentOrigin && window.parent !== window) window.parent.postMessage(message, cfg.parentOrigin);
  }

  function finish() {
    finished = true;
    if (cfg.selfRedirect) { location.replace(completeUrl); return; }
    if (cfg.parentOrigin && window.parent !== window) {
      post({ type: 'saoma:wxlogin', action: 'navigate', url: completeUrl });
    } else {
      try { window.top.location.href = completeUrl; } catch (e) { /* blocked without user activation */ }
    }
    var link = el('wx-continue');
    link.href = completeUrl;
    setTimeout(function () { link.hidden = false; }, 1500);
  }

  function gone() { finished = true; show('gone', t.gone); }

  function refresh() {
    if (refreshing || finished) return;
    refreshing = true;
    fetch(base + '/qr', { headers: { accept: 'application/json' } }).then(function (res) {
      if (res.status === 404 || res.status === 410) { gone(); return null; }
      if (!res.ok) throw new Error(String(res.status));
      return res.json();
    }).then(function (qr) {
      refreshing = false;
      if (!qr) return;
      el('wx-qr').innerHTML = qr.svg; // server-generated SVG from the qrcode library
      var link = el('wx-qr-link');
      link.href = qr.payload;
      link.textContent = qr.payload;
      state.qrId = qr.qrId;
      apply(qr);
    }).catch(function () {
      setTimeout(function () { refreshing = false; refresh(); }, 2000 + Math.random() * 2000);
    });
  }

  function apply(s) {
    if (finished) return;
    if (s.qrId && s.qrId !== state.qrId) { state.qrId = s.qrId; refresh(); return; }
    state.status = s.status;
    if (s.status === 'pending') show('pending', t.scan);
    else if (s.status === 'scanned') show('scanned', t.scanned);
    else if (s.status === 'confirmed') { show('confirmed', t.confirmed); finish(); }
    else if (s.status === 'denied') { show('denied', t.denied); finished = true; setTimeout(finish, 1500); }
    else if (s.status === 'expired') { show('expired', t.expired); refresh(); }
  }

  // Long-poll with capped, jittered backoff: a restarting server is not stampeded.
  function poll(delay) {
    if (finished) return;
    fetch(base + '/status?last=' + encodeURIComponent(state.status) + '&wait=25').then(function (res) {
      if (res.status === 404 || res.status === 410) { gone(); return null; }
      if (!res.ok) throw new Error(String(res.status));
      return res.json();
    }).then(function (s) {
      if (s) apply(s);
      poll(1000);
    }).catch(function () {
      if (!finished) el('wx-status').textContent = t.offline;
      var next = Math.min((delay || 1000) * 2, 15000);
      setTimeout(function () { poll(next); }, next / 2 + Math.random() * next / 2);
    });
  }

  post({ type: 'saoma:wxlogin', action: 'ready' });
  poll(1000);
})();
`;
