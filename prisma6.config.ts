// Prisma 6.19 CLI config, used ONLY for migrate/db commands. Prisma 6 runs its bundled
// WASM schema engine when `engine: "js"` + `adapter` are set, so no native binary is needed.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { defineConfig } from 'prisma6/config';
import { PrismaPg } from '@prisma/adapter-pg'; // the v7 adapter (v6.19's mis-handles the `name` column type)

// Prisma 6 insists on `url` in the datasource block while Prisma 7 forbids it, so derive a
// Prisma-6 copy of the one real schema (url injected, generator redirected to a throwaway dir).
const src = fs.readFileSync('prisma/schema.prisma', 'utf8');
const derived = src
  .replace(/provider\s*=\s*"postgresql"/, 'provider = "postgresql"\n  url = env("DATABASE_URL")')
  .replace(/provider\s*=\s*"prisma-client"/, 'provider = "prisma-client"\n  engineType = "client"')
  .replace(/output\s*=\s*"[^"]*"/, 'output = "./client-unused"');
const derivedPath = 'node_modules/.prisma6/schema.prisma';
fs.mkdirSync(path.dirname(derivedPath), { recursive: true });
fs.writeFileSync(derivedPath, derived);

const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/saoma');
// The schema engine's catalog queries return `"char"` columns (OID 18), which @prisma/adapter-pg
// rejects ("Column type 'char' could not be deserialized"); report them as text (OID 25).
const fixTypes = <T>(res: T): T => {
  for (const f of (res as { fields?: { dataTypeID: number }[] } | undefined)?.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25;
  return res;
};
const isThenable = (v: unknown): v is Promise<unknown> => typeof (v as { then?: unknown } | null | undefined)?.then === 'function';
class CatalogSafeClient extends pg.Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one override for every overload of pg's query (text, config, callback, promise): only any fits them all
  query(...args: unknown[]): any {
    const cb = args.findIndex((a) => typeof a === 'function'); // pg.Pool#query uses callbacks
    if (cb >= 0) {
      const orig = args[cb] as (err: unknown, res: unknown) => void;
      args[cb] = (err: unknown, res: unknown) => orig(err, fixTypes(res));
    }
    const r = (super.query as (...a: unknown[]) => unknown)(...args);
    return isThenable(r) ? r.then(fixTypes) : r;
  }
}
const cfg: pg.PoolConfig = {
  host: url.hostname,
  port: Number(url.port || 5432),
  database: url.pathname.slice(1),
  user: decodeURIComponent(url.username),
  password: decodeURIComponent(url.password),
  Client: CatalogSafeClient,
  idleTimeoutMillis: 50,
  allowExitOnIdle: true, // let the CLI exit promptly (default 10s idle timeout keeps it alive)
};

// PrismaPg's own connectToShadowDb drops the shadow DB before closing its pool (fails with
// "is being accessed by other users"), so provide a working one.
async function admin(sql: string) {
  const c = new pg.Client(cfg);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
class MigrateFactory extends PrismaPg {
  constructor() {
    super(cfg);
  }
  async connectToShadowDb() {
    const name = `prisma_shadow_${process.pid}_${Date.now()}`;
    await admin(`CREATE DATABASE "${name}"`);
    const conn = await new PrismaPg({ ...cfg, database: name }).connect();
    const dispose = conn.dispose.bind(conn);
    conn.dispose = async () => {
      await dispose();
      await admin(`DROP DATABASE IF EXISTS "${name}"`);
    };
    return conn;
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  adapter: () => Promise.resolve(new MigrateFactory()),
  schema: derivedPath,
  migrations: { path: 'prisma/migrations' },
});
