import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { androidOrigin, loadConfig } from '../config.js';
import { appleAppSiteAssociation, assetLinks } from './app-links.js';

const CERT_SHA256 = createHash('sha256').update('the signing certificate').digest();
const FINGERPRINT = [...CERT_SHA256].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
const base = { PUBLIC_URL: 'https://login.acme.example' };

describe("the organisation's own apps (IOS_APP_IDS, ANDROID_APPS)", () => {
  it('opens QR links in the iOS app and lets it use passkeys for this host', () => {
    const { nativeApps } = loadConfig({ ...base, IOS_APP_IDS: 'ABCDE12345.com.acme.app, ABCDE12345.com.acme.beta' });
    const aasa = appleAppSiteAssociation(nativeApps.ios);
    expect(aasa.applinks.details).toEqual([
      { appIDs: ['ABCDE12345.com.acme.app', 'ABCDE12345.com.acme.beta'], components: [expect.objectContaining({ '/': '/q/*' })] },
    ]);
    expect(aasa.webcredentials.apps).toEqual(['ABCDE12345.com.acme.app', 'ABCDE12345.com.acme.beta']);
  });

  it('lists each Android app with its certificates for links and passkeys, and accepts the passkey origin Android reports for it', () => {
    const second = FINGERPRINT.replace(/^../, '00');
    const config = loadConfig({ ...base, ANDROID_APPS: `com.acme.app=${FINGERPRINT.toLowerCase()}|${second}` });
    expect(assetLinks(config.nativeApps.android)).toEqual([
      {
        relation: ['delegate_permission/common.handle_all_urls', 'delegate_permission/common.get_login_creds'],
        target: { namespace: 'android_app', package_name: 'com.acme.app', sha256_cert_fingerprints: [FINGERPRINT, second] },
      },
    ]);
    // What Credential Manager puts in clientDataJSON: base64url of the certificate's SHA-256.
    expect(androidOrigin(FINGERPRINT)).toBe(`android:apk-key-hash:${CERT_SHA256.toString('base64url')}`);
    expect(config.passkeys.origins).toEqual(['https://login.acme.example', androidOrigin(FINGERPRINT), androidOrigin(second)]);
  });

  it('keeps PASSKEY_ORIGINS as given and adds the Android apps to it', () => {
    const config = loadConfig({ ...base, PASSKEY_ORIGINS: 'https://login.acme.example,https://acme.example', ANDROID_APPS: `com.acme.app=${FINGERPRINT}` });
    expect(config.passkeys.origins).toEqual(['https://login.acme.example', 'https://acme.example', androidOrigin(FINGERPRINT)]);
  });

  it('refuses an app id without its team, and a fingerprint that is not 32 bytes, naming the setting', () => {
    expect(() => loadConfig({ ...base, IOS_APP_IDS: 'com.acme.app' })).toThrow(/IOS_APP_IDS.*TEAMID\.bundle\.id/);
    expect(() => loadConfig({ ...base, ANDROID_APPS: 'com.acme.app=AB:CD' })).toThrow(/ANDROID_APPS.*package=FINGERPRINT/);
    expect(() => loadConfig({ ...base, ANDROID_APPS: FINGERPRINT })).toThrow(/ANDROID_APPS/);
  });

  it('has no apps unless configured', () => {
    expect(loadConfig(base).nativeApps).toEqual({ ios: [], android: [] });
  });
});
