import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrate, pgliteRunner } from '../../provider/src/storage/migrate.js';

/**
 * The upgrade that makes client authentication enforced (issue 13): apps that existed before it
 * become "not yet pinned" (the stored method was never enforced) and, having registered no ID
 * token algorithm, get OpenID Connect's default, RS256; apps created after it are pinned to
 * client_secret_basic and get RS256 too.
 */
const MIGRATION = '20261207060000_client_auth_and_id_token_alg';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-migration-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe(`migration ${MIGRATION}`, () => {
  it('unpins existing apps and gives them RS256 (none registered one); new rows default to client_secret_basic and RS256', async () => {
    for (const m of fs.readdirSync(MIGRATIONS_DIR)) if (m < MIGRATION) fs.cpSync(path.join(MIGRATIONS_DIR, m), path.join(dir, m), { recursive: true });
    const db = new PGlite();
    try {
      await migrate(pgliteRunner(db), { migrationsDir: dir });
      await db.exec(`INSERT INTO "DeveloperAccount" (id, name) VALUES ('dev_default', 'd');
        INSERT INTO "App" ("appId", "secretHash", "developerId", name, "redirectUris", "tokenEndpointAuthMethod", "updatedAt")
        VALUES ('sm_old_post', 'h', 'dev_default', 'Old', ARRAY['https://a.example/cb'], 'client_secret_post', now()),
               ('sm_old_default', 'h', 'dev_default', 'Old 2', ARRAY['https://a.example/cb'], DEFAULT, now());`);

      fs.cpSync(path.join(MIGRATIONS_DIR, MIGRATION), path.join(dir, MIGRATION), { recursive: true });
      expect(await migrate(pgliteRunner(db), { migrationsDir: dir })).toEqual([MIGRATION]);
      await db.exec(`INSERT INTO "App" ("appId", "secretHash", "developerId", name, "redirectUris", "updatedAt")
        VALUES ('sm_new', 'h', 'dev_default', 'New', ARRAY['https://a.example/cb'], now());`);

      const rows = await db.query<{ appId: string; tokenEndpointAuthMethod: string | null; idTokenSignedResponseAlg: string }>(
        'SELECT "appId", "tokenEndpointAuthMethod", "idTokenSignedResponseAlg" FROM "App" ORDER BY "appId"',
      );
      expect(rows.rows).toEqual([
        { appId: 'sm_new', tokenEndpointAuthMethod: 'client_secret_basic', idTokenSignedResponseAlg: 'RS256' },
        { appId: 'sm_old_default', tokenEndpointAuthMethod: null, idTokenSignedResponseAlg: 'RS256' },
        { appId: 'sm_old_post', tokenEndpointAuthMethod: null, idTokenSignedResponseAlg: 'RS256' },
      ]);
    } finally {
      await db.close();
    }
  });
});
