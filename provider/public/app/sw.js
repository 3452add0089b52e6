// The phone app's service worker (served at /app/sw.js, scope /app). It keeps the app shell
// so the app opens offline; everything else, and /api above all, always goes to the network:
// login requests, tokens and decisions must never come from a cache.
const CACHE = 'saoma-shell-v2';
const SHELL = [
  '/app',
  '/app/manifest.webmanifest',
  '/static/saoma.css',
  '/static/app/app.css',
  '/static/app/app.js',
  '/static/app/api.js',
  '/static/app/dom.js',
  '/static/app/errors.js',
  '/static/app/format.js',
  '/static/app/i18n.js',
  '/static/app/icons.js',
  '/static/app/names.js',
  '/static/app/webauthn.js',
  '/static/app/screens/account.js',
  '/static/app/screens/activity.js',
  '/static/app/screens/auth.js',
  '/static/app/screens/authorizations.js',
  '/static/app/screens/confirm.js',
  '/static/app/screens/home.js',
  '/static/app/screens/paste.js',
  '/static/app/screens/scan.js',
  '/static/app/icons/icon-192.png',
];

/** This script's global scope, typed as what it is (a service worker). */
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'no-cache' }))))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith('saoma-') && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => sw.clients.claim()),
  );
});

/**
 * What may come from the cache: the shell's pages and files, never an API call.
 * @param {URL} url
 */
function cacheable(url) {
  if (url.origin !== sw.location.origin) return false;
  if (url.pathname.startsWith('/api/')) return false;
  return (
    url.pathname === '/app' ||
    url.pathname === '/app/' ||
    url.pathname.startsWith('/static/app/') ||
    url.pathname === '/static/saoma.css' ||
    url.pathname.startsWith('/app/vendor/') ||
    url.pathname === '/app/manifest.webmanifest'
  );
}

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (!cacheable(url)) return; // the browser fetches it as if there were no worker
  // Network first (fresh code after a deploy), the cache when the network fails.
  const shellKey = request.mode === 'navigate' ? '/app' : request;
  event.respondWith(
    fetch(request, { cache: 'no-cache' })
      .then((response) => {
        if (response.ok && response.type === 'basic') {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(shellKey, copy)));
        }
        return response;
      })
      .catch(() => caches.match(shellKey).then((hit) => hit ?? Response.error())),
  );
});
