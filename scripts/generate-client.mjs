// `npm run db:generate` (and postinstall, so `npm install` / `npm ci` do it): generates the Prisma
// client (provider/src/storage/generated) with the Prisma CLI, a devDependency. A production
// install (`npm ci --omit=dev`) has no CLI and needs none: `npm run build` compiled the client into dist/.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

let cli;
try {
  cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
} catch {
  console.log('db:generate: the Prisma CLI is not installed (production dependencies only): client generation skipped');
  process.exit(0);
}
// The schema engine is never needed to generate, and would be downloaded from a host not every machine reaches (PRISMA.md).
execFileSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false' } });
