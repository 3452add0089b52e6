/* The embedded QR (the iframe wxLogin.js puts on a site's page): keeps the QR live and finishes.
 *
 * DESIGN — an embedded QR that works across sites, without cookies, that the site cannot read
 *
 * 1. No cookies in the iframe. It is a third-party (cross-site) context: oidc-provider's
 *    interaction cookies (SameSite=Lax) are neither set nor sent there, and third-party cookies
 *    may be blocked outright. So /connect/qrconnect with `login_type=jssdk` stores the validated
 *    request under an unguessable embed token (192 bits, 30 min; provider/src/wechat/embed.ts)
 *    and renders the QR with that token in a JSON block this script reads and then removes from
 *    the page. It long-polls `/connect/embed/<token>/status`; `/connect/embed/<token>/complete`
 *    claims the decided login once, mints the single-use code and 302s to
 *    `redirect_uri?code&state` (`?state` when denied).
 *
 * 2. A cross-origin iframe may not navigate the top window without user activation (Chromium's
 *    framebusting intervention, Chrome 68; Safari and Firefox followed), and a person who scans
 *    with a phone never clicks the iframe. The page that may navigate the top window freely is
 *    the top window itself, and wxLogin.js runs there. So on `confirmed` this script posts
 *    `{type: 'saoma:wxlogin', action: 'navigate', url}` to the parent with the exact
 *    `targetOrigin` the provider verified (one of the app's own origins), and wxLogin.js
 *    navigates its own window. With `self_redirect: true` the iframe navigates itself instead.
 *    Otherwise a Continue button appears; a click is user activation, which may navigate the
 *    top window.
 *
 * 3. The completion URL is a capability (whoever opens it gets the code), so it is never in the
 *    DOM: not in an attribute a stylesheet's selectors could probe, not in text. The provider
 *    also lets only the app's own origins frame this page (frame-ancestors) and supply its
 *    stylesheet, with no image or font from elsewhere (CSP), and counts unknown tokens per
 *    address, so the status endpoint cannot confirm guesses.
 */
(function () {
  'use strict';
  var root = document.getElementById('wx-root');
  var configEl = document.getElementById('wx-config');
  if (!root || !configEl) return;
  /** @type {{ token: string, qrId: string, status: string, selfRedirect: boolean, parentOrigin: string | null, text: Record<string, string> }} */
  var cfg = JSON.parse(configEl.textContent || '{}');
  // The token lives in this script from here on, nowhere in the document.
  if (configEl.parentNode) configEl.parentNode.removeChild(configEl);
  var t = cfg.text;
  var base = '/connect/embed/' + encodeURIComponent(cfg.token);
  var completeUrl = new URL(base + '/complete', location.href).href;
  var state = { qrId: cfg.qrId, status: cfg.status };
  var finished = false;
  var refreshing = false;

  /** @param {string} id @returns {HTMLElement} */
  function el(id) {
    return /** @type {HTMLElement} */ (document.getElementById(id));
  }
  /** @param {string} status @param {string} text */
  function show(status, text) {
    if (root) root.setAttribute('data-status', status);
    el('wx-status').textContent = text;
  }
  /** @param {unknown} message */
  function post(message) {
    if (cfg.parentOrigin && window.parent !== window) window.parent.postMessage(message, cfg.parentOrigin);
  }

  function finish() {
    finished = true;
    if (cfg.selfRedirect) {
      location.replace(completeUrl);
      return;
    }
    if (cfg.parentOrigin && window.parent !== window) {
      post({ type: 'saoma:wxlogin', action: 'navigate', url: completeUrl });
    } else {
      try {
        /** @type {Window} */ (window.top).location.href = completeUrl;
      } catch (e) {
        /* blocked without user activation: the button below */
      }
    }
    setTimeout(function () {
      el('wx-continue').hidden = false;
    }, 1500);
  }

  el('wx-continue').addEventListener('click', function () {
    // A click is user activation: the top window may be navigated now.
    /** @type {Window} */ (window.top).location.href = completeUrl;
  });

  function gone() {
    finished = true;
    show('gone', t.gone);
  }

  /**
   * The embed's JSON, or null once the embed is gone (404/410: finished, expired or unknown
   * token); any other failure rejects so the caller retries.
   * @param {string} url @returns {Promise<any>}
   */
  function getJson(url) {
    return fetch(url, { headers: { accept: 'application/json' } }).then(function (res) {
      if (res.status === 404 || res.status === 410) {
        gone();
        return null;
      }
      if (!res.ok) throw new Error(String(res.status));
      return res.json();
    });
  }

  function refresh() {
    if (refreshing || finished) return;
    refreshing = true;
    getJson(base + '/qr')
      .then(function (qr) {
        refreshing = false;
        if (!qr) return;
        var svg = new DOMParser().parseFromString(qr.svg, 'image/svg+xml').documentElement;
        if (svg.nodeName.toLowerCase() === 'svg') el('wx-qr').replaceChildren(document.importNode(svg, true));
        var link = /** @type {HTMLAnchorElement} */ (el('wx-qr-link'));
        link.href = qr.payload;
        link.textContent = qr.payload;
        state.qrId = qr.qrId;
        apply(qr);
      })
      .catch(function () {
        setTimeout(
          function () {
            refreshing = false;
            refresh();
          },
          2000 + Math.random() * 2000,
        );
      });
  }

  /** @param {{ qrId?: string, status: string }} s */
  function apply(s) {
    if (finished) return;
    if (s.qrId && s.qrId !== state.qrId) {
      state.qrId = s.qrId;
      refresh();
      return;
    }
    state.status = s.status;
    if (s.status === 'pending') show('pending', t.scan);
    else if (s.status === 'scanned') show('scanned', t.scanned);
    else if (s.status === 'confirmed') {
      show('confirmed', t.confirmed);
      finish();
    } else if (s.status === 'denied') {
      show('denied', t.denied);
      finished = true;
      setTimeout(finish, 1500);
    } else if (s.status === 'expired') {
      show('expired', t.expired);
      refresh();
    }
  }

  // Long-poll with capped, jittered backoff: a restarting server is not stampeded.
  /** @param {number} delay */
  function poll(delay) {
    if (finished) return;
    getJson(base + '/status?last=' + encodeURIComponent(state.status) + '&wait=25')
      .then(function (s) {
        if (s) apply(s);
        poll(1000);
      })
      .catch(function () {
        if (!finished) el('wx-status').textContent = t.offline;
        var next = Math.min((delay || 1000) * 2, 15000);
        setTimeout(
          function () {
            poll(next);
          },
          next / 2 + (Math.random() * next) / 2,
        );
      });
  }

  post({ type: 'saoma:wxlogin', action: 'ready' });
  poll(1000);
})();
