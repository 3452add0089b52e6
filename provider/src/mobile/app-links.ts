import { Router } from 'express';
import type { AndroidApp } from '../config.js';
import { notFound } from '../errors.js';

/**
 * The association files that let an organisation's own phone app (docs/NATIVE-APP.md §6) open
 * the QR links (`<issuer>/q/<qrId>`, what a phone camera reads) and use passkeys for Saoma's
 * relying party: Apple's apple-app-site-association and Android's Digital Asset Links. Both
 * platforms fetch them from this host over https without redirects; unset apps answer 404.
 */
export function appleAppSiteAssociation(appIds: string[]) {
  return {
    applinks: { details: [{ appIDs: appIds, components: [{ '/': '/q/*', comment: 'A login QR code: open it in the app, which shows the request' }] }] },
    webcredentials: { apps: appIds },
  };
}

export function assetLinks(apps: AndroidApp[]) {
  return apps.map((a) => ({
    relation: ['delegate_permission/common.handle_all_urls', 'delegate_permission/common.get_login_creds'],
    target: { namespace: 'android_app', package_name: a.packageName, sha256_cert_fingerprints: a.fingerprints },
  }));
}

export function appLinkRoutes(apps: { ios: string[]; android: AndroidApp[] }): Router {
  const router = Router();
  // Platforms cache these themselves; an hour keeps a changed app list from waiting long at a CDN.
  const cache = 'public, max-age=3600';
  router.get('/.well-known/apple-app-site-association', (_req, res) => {
    if (!apps.ios.length) throw notFound('No iOS app is configured (IOS_APP_IDS).');
    res.set('Cache-Control', cache).json(appleAppSiteAssociation(apps.ios));
  });
  router.get('/.well-known/assetlinks.json', (_req, res) => {
    if (!apps.android.length) throw notFound('No Android app is configured (ANDROID_APPS).');
    res.set('Cache-Control', cache).json(assetLinks(apps.android));
  });
  return router;
}
