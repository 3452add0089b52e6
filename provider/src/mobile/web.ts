import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type RequestHandler } from 'express';
import { escapeHtml } from '../http/html.js';
import { pickLang } from '../http/i18n.js';

const APP_DIR = fileURLToPath(new URL('../../public/app/', import.meta.url));
// Resolved through Node so the app always gets the qr-scanner version package.json pins.
const QR_SCANNER_DIR = path.dirname(createRequire(import.meta.url).resolve('qr-scanner/package.json'));
const QR_SCANNER_FILES = new Set(['/qr-scanner.min.js', '/qr-scanner.min.js.map', '/qr-scanner-worker.min.js', '/qr-scanner-worker.min.js.map']);
// The WebAuthn helper, as the ES modules it ships (relative imports between its own files);
// its exports map hides package.json, so from its CommonJS entry (script/) to the esm/ beside it.
const WEBAUTHN_DIR = path.join(path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'esm');

/**
 * The phone web app (API.md §3): `/app` and `/q/:qrId` (what a plain phone camera opens from
 * the QR) serve the same shell; the script reads the qrId from the path and continues with it
 * after sign-in. Plain ES modules from /static/app, no build step, no inline script or style,
 * so a strict CSP (script-src 'self'; worker-src 'self' blob: for qr-scanner) fits.
 */
export function phoneWebRoutes(): Router {
  const router = Router();

  router.get(['/app', '/app/', '/q/:qrId'], (req, res) => {
    // The shell holds no secrets, but a /q/ URL names a live login request: never cache it.
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(shell(pickLang(req) === 'zh' ? 'zh-CN' : 'en'));
  });

  router.get('/app/manifest.webmanifest', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('application/manifest+json').send(JSON.stringify(manifest));
  });

  // The worker lives under /app so its scope can cover /app itself (the installed start URL).
  router.get('/app/sw.js', (_req, res) => {
    res.set({ 'Cache-Control': 'no-cache', 'Service-Worker-Allowed': '/app' });
    res.type('text/javascript').sendFile(path.join(APP_DIR, 'sw.js'));
  });

  // The camera fallback library, straight from node_modules (only the files the browser needs).
  router.use('/app/vendor/qr-scanner', onlyFiles(QR_SCANNER_FILES), express.static(QR_SCANNER_DIR, { maxAge: '1d', index: false }));
  // Passkeys: @simplewebauthn/browser's ES modules, scripts only (not its typings or maps).
  router.use('/app/vendor/simplewebauthn', onlyScripts, express.static(WEBAUTHN_DIR, { maxAge: '1d', index: false }));

  return router;
}

const onlyScripts: RequestHandler = (req, res, next) => (/^\/[a-zA-Z0-9/]+\.js$/.test(req.path) ? next() : void res.status(404).type('text').send('Not found'));

function onlyFiles(allowed: Set<string>): RequestHandler {
  return (req, res, next) => (allowed.has(req.path) ? next() : void res.status(404).type('text').send('Not found'));
}

const manifest = {
  name: 'Saoma 扫码登录',
  short_name: 'Saoma',
  description: 'Log in to websites by scanning a QR code with your phone. 扫一扫，登录网站。',
  id: '/app',
  start_url: '/app',
  scope: '/app',
  display: 'standalone',
  orientation: 'portrait',
  background_color: '#f4f5f7',
  theme_color: '#07c160',
  icons: [
    { src: '/static/app/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: '/static/app/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
    { src: '/static/app/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
  ],
};

function shell(lang: string): string {
  return `<!doctype html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#07c160">
<meta name="referrer" content="no-referrer">
<title>Saoma</title>
<link rel="manifest" href="/app/manifest.webmanifest">
<link rel="icon" type="image/png" href="/static/app/icons/icon-192.png">
<link rel="apple-touch-icon" href="/static/app/icons/apple-touch-icon.png">
<link rel="stylesheet" href="/static/saoma.css">
<link rel="stylesheet" href="/static/app/app.css">
<script type="module" src="/static/app/app.js"></script>
</head>
<body class="phone-app">
<div id="app" class="phone"><noscript>Saoma needs JavaScript. <span lang="zh-CN">请启用 JavaScript。</span></noscript></div>
</body>
</html>`;
}
