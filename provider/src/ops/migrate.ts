/**
 * `node dist/provider/src/ops/migrate.js` (`npm run migrate:prod`): apply pending migrations and
 * exit — the "migrations first" step of an upgrade (a Kubernetes Job, a compose one-shot
 * service) when instances run with MIGRATE_ON_START=0. The same in-process migrator as at
 * start (storage/migrate.ts: Prisma's advisory lock and _prisma_migrations), so no Prisma CLI
 * or schema engine is needed in the image.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { loadConfig, type Config } from '../config.js';
import { openDatabase } from '../storage/database.js';
import { migrate, pgClientRunner, readMigrations } from '../storage/migrate.js';

export async function runMigrations(config: Config): Promise<{ applied: string[]; total: number }> {
  const total = readMigrations().length;
  if (!config.DATABASE_URL) {
    // Embedded: opening migrates (and takes the data directory's lock: the provider must be stopped).
    const db = await openDatabase({ dataDir: config.dataDir, migrate: true });
    await db.close();
    return { applied: [], total };
  }
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped connection surfaces through the query promise
  await client.connect();
  try {
    return { applied: await migrate(pgClientRunner(client)), total };
  } finally {
    await client.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const config = loadConfig();
    const { applied, total } = await runMigrations(config);
    console.log(
      config.DATABASE_URL
        ? `migrations: ${applied.length ? `applied ${applied.join(', ')}` : 'none pending'} (${total} shipped, all applied)`
        : `migrations: embedded database in ${config.dataDir} is up to date (${total} shipped)`,
    );
    process.exit(0);
  } catch (err) {
    console.error(`migrations failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
