import { describe, expect, it } from 'vitest';
import { fullLogin, registerSite, signedInPhone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const servicesMissing = (await skipUnlessPostgres()) || (await skipUnlessRedis());

for (const kind of ['services', 'embedded'] as const) {
  describe.skipIf(kind === 'services' && servicesMissing)(
    `a full QR login through openid-client (${kind === 'services' ? 'PostgreSQL + Redis' : 'embedded PGlite + memory'})`,
    () => {
      const p = useProvider(kind);

      it('logs a person in: authorize → QR → phone confirm → code → tokens → userinfo', async () => {
        const { app, config } = await registerSite(p);
        const phone = await signedInPhone(p);
        const { tokens, claims, profile, callback } = await fullLogin(p, config, phone, { offline: true });
        expect(callback.searchParams.get('code')).toBeTruthy();
        expect(tokens.access_token).toBeTruthy();
        expect(tokens.refresh_token).toBeTruthy();
        expect(tokens.expires_in).toBeGreaterThan(7000);
        expect(claims.aud).toBe(app.appId);
        expect(claims.sub).not.toBe(phone.user.id); // pairwise, never the internal id
        expect(profile.sub).toBe(claims.sub);
        expect(profile.nickname).toBe(phone.user.nickname);
        expect(profile.unionid).toMatch(/^u/);
      });
    },
  );
}
