/**
 * The association files an organisation's own phone app needs (mobile/app-links.ts): served by
 * the provider itself at the paths iOS and Android fetch, as JSON, without a redirect.
 */
import { describe, expect, it } from 'vitest';
import { useProvider } from '../support/harness.js';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const get = (issuer: string, path: string) => fetch(`${issuer}${path}`, { redirect: 'manual' });

describe('app association files with IOS_APP_IDS and ANDROID_APPS', () => {
  const p = useProvider('embedded', { IOS_APP_IDS: 'ABCDE12345.com.acme.app', ANDROID_APPS: `com.acme.app=${FINGERPRINT}` });

  it('serves apple-app-site-association for QR links and passkeys, as JSON, without a redirect', async () => {
    const res = await get(p.issuer, '/.well-known/apple-app-site-association');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      applinks: { details: [{ appIDs: ['ABCDE12345.com.acme.app'], components: [expect.objectContaining({ '/': '/q/*' })] }] },
      webcredentials: { apps: ['ABCDE12345.com.acme.app'] },
    });
  });

  it('serves assetlinks.json with the app, its certificate, and the link and passkey relations', async () => {
    const res = await get(p.issuer, '/.well-known/assetlinks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const [statement] = (await res.json()) as Array<{ relation: string[]; target: Record<string, unknown> }>;
    expect(statement.relation.sort()).toEqual(['delegate_permission/common.get_login_creds', 'delegate_permission/common.handle_all_urls']);
    expect(statement.target).toEqual({ namespace: 'android_app', package_name: 'com.acme.app', sha256_cert_fingerprints: [FINGERPRINT] });
  });
});

describe('app association files without apps configured', () => {
  const p = useProvider('embedded');

  it('answers 404 in the documented error shape, and still serves discovery under /.well-known', async () => {
    for (const path of ['/.well-known/apple-app-site-association', '/.well-known/assetlinks.json']) {
      const res = await get(p.issuer, path);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    }
    expect((await get(p.issuer, '/.well-known/openid-configuration')).status).toBe(200);
  });
});
