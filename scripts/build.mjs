// `npm run build`: compiles the provider (admin CLI included) to plain JavaScript in dist/ for
// `npm run start:prod`, which then needs no TypeScript tooling. dist/ mirrors the source layout,
// so the paths the code resolves relative to its own file (app.ts: ../public, mobile/web.ts:
// ../../public/app, storage/migrate.ts: ../../../prisma/migrations) find the copies made here.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

if (!fs.existsSync(path.join(root, 'provider/src/storage/generated/client.ts'))) {
  console.error('build: the Prisma client is not generated (provider/src/storage/generated); run `npm ci` (or `npm run db:generate`) first');
  process.exit(1);
}

fs.rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
} catch {
  console.error('build: tsc failed (see above)');
  process.exit(1);
}
for (const dir of ['provider/public', 'prisma/migrations']) {
  fs.cpSync(path.join(root, dir), path.join(dist, dir), { recursive: true });
}
console.log(`build: ${path.relative(process.cwd(), dist) || '.'}/provider/src/main.js ready (npm run start:prod)`);
