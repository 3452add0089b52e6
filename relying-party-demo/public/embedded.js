/* `/wechat/embedded.js` on the demo site: WeChat's documented WxLogin call, with the values the
 * page carries in data attributes (the demo's CSP allows no inline script). ES5. */
(function () {
  'use strict';
  var box = document.getElementById('login_container');
  if (!box) return;
  /** @type {any} */
  var w = window;
  if (typeof w.WxLogin !== 'function') {
    box.textContent = 'The QR code could not be loaded: is the Saoma provider running?';
    return;
  }
  new w.WxLogin({
    self_redirect: false,
    id: 'login_container',
    appid: box.getAttribute('data-appid'),
    scope: 'snsapi_login',
    redirect_uri: encodeURIComponent(box.getAttribute('data-redirect-uri') || ''),
    state: box.getAttribute('data-state'),
    style: 'black',
    href: '',
    onReady: function () {
      box.setAttribute('data-wx-ready', 'true');
    },
  });
})();
