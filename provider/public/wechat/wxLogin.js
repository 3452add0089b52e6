/* Saoma wxLogin.js: WeChat-compatible embedded QR login. ES5, no build step.
 *
 * WeChat's `new WxLogin({id, appid, scope, redirect_uri, state, style, href, self_redirect})`
 * puts an iframe of `…/connect/qrconnect?…&login_type=jssdk` into the site's element `id`;
 * after the phone confirms, the top window (or, with `self_redirect: true`, the iframe) goes to
 * `redirect_uri?code&state`. How the iframe finishes without cookies and without framebusting
 * is explained in frame.js. This script runs on the site's own page: it is the one that may
 * navigate the top window, so the iframe posts it the completion URL (only ever to one of the
 * app's own origins, which the provider also enforces with frame-ancestors) and it navigates.
 */
(function (window, document) {
  'use strict';
  // Replaced with the provider's issuer when served (provider/src/wechat/connect-routes.ts).
  var ISSUER = '__SAOMA_ISSUER__';
  var ORIGIN = ISSUER.replace(/^(https?:\/\/[^/]+).*$/, '$1');
  // WeChat concatenates redirect_uri and state as given (sites pass them URL-encoded); values
  // that are already a valid query component go through untouched, anything else is encoded.
  var SAFE = /^(?:[A-Za-z0-9\-._~!$'()*,;:@/?=]|%[0-9A-Fa-f]{2})*$/;

  /** @param {unknown} v */
  function q(v) {
    if (v === undefined || v === null) return '';
    var s = String(v);
    return SAFE.test(s) ? s : encodeURIComponent(s);
  }

  /**
   * @typedef {{ id: string, appid: string, scope?: string, redirect_uri: string, state?: string, style?: string,
   *   href?: string, lang?: string, self_redirect?: boolean, styletype?: string, sizetype?: string, bgcolor?: string,
   *   rst?: string, onReady?: (ready: boolean) => void, onCleanup?: () => void }} WxLoginOptions
   */

  /**
   * @constructor
   * @param {WxLoginOptions} opts
   */
  function WxLogin(opts) {
    if (!(this instanceof WxLogin)) return new WxLogin(opts);
    opts = opts || /** @type {WxLoginOptions} */ ({});
    var selfRedirect = opts.self_redirect === true ? 'true' : opts.self_redirect === false ? 'false' : 'default';
    var src =
      ISSUER +
      '/connect/qrconnect?appid=' +
      q(opts.appid) +
      '&scope=' +
      q(opts.scope) +
      '&redirect_uri=' +
      q(opts.redirect_uri) +
      '&state=' +
      q(opts.state) +
      '&login_type=jssdk&self_redirect=' +
      selfRedirect +
      '&styletype=' +
      q(opts.styletype) +
      '&sizetype=' +
      q(opts.sizetype) +
      '&bgcolor=' +
      q(opts.bgcolor) +
      '&rst=' +
      q(opts.rst);
    if (opts.style) src += '&style=' + q(opts.style);
    if (opts.href) src += '&href=' + q(opts.href);
    if (opts.lang) src += '&lang=' + q(opts.lang);
    src += '&parent_origin=' + encodeURIComponent(window.location.origin);

    var box = document.getElementById(opts.id);
    if (!box) throw new Error('WxLogin: no element with id "' + opts.id + '"');
    var frame = document.createElement('iframe');
    frame.src = src;
    frame.title = 'QR code login';
    frame.setAttribute('frameborder', '0');
    frame.setAttribute('allowtransparency', 'true');
    frame.setAttribute('scrolling', 'no');
    frame.width = '300px';
    frame.height = '400px';
    box.innerHTML = '';
    box.appendChild(frame);

    /** @param {MessageEvent} e */
    function onMessage(e) {
      if (e.origin !== ORIGIN || e.source !== frame.contentWindow) return;
      var d = e.data;
      if (!d || d.type !== 'saoma:wxlogin') return;
      if (d.action === 'ready' && typeof opts.onReady === 'function') opts.onReady(true);
      // Only our own completion URLs: this must not become an open redirect for the frame.
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
  /** @type {any} */ (window).WxLogin = WxLogin;
})(window, document);
