/**
 * `npm run admin` as people run it: `tsx provider/src/admin/cli/main.ts …` in a child process,
 * with only the settings a test gives it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin');

export type CliRun = { code: number | null; stdout: string; stderr: string };

/**
 * Runs the admin CLI with `args`. Nothing that picks a store, a transport or a secret is inherited
 * (DATABASE_URL, REDIS_URL, DATA_DIR, IDENTIFIER_SECRET, SAOMA_ADMIN_URL, SAOMA_ADMIN_TOKEN):
 * a test passes those in `env`. `stdin` is piped in (a pipe, never a terminal); killed after 30 s.
 */
export function admin(args: string[], env: Record<string, string>, stdin = ''): Promise<CliRun> {
  const { DATABASE_URL: _d, REDIS_URL: _r, DATA_DIR: _dd, IDENTIFIER_SECRET: _i, SAOMA_ADMIN_URL: _u, SAOMA_ADMIN_TOKEN: _t, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BIN, 'tsx'), ['provider/src/admin/cli/main.ts', ...args], {
      cwd: ROOT,
      // npm scripts put node_modules/.bin (Node 24) first; so do we.
      env: { ...inherited, PATH: `${BIN}:${process.env.PATH}`, LOG_LEVEL: 'warn', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The `--json` answer of a run that must have succeeded (its stderr in the error if not). */
export function json(out: CliRun): Record<string, any> {
  if (out.code !== 0) throw new Error(`admin CLI exited ${out.code}: ${out.stderr}`);
  return JSON.parse(out.stdout) as Record<string, any>;
}

/** A run that failed as people should see it: exit 1, the message on stderr, no stack trace. */
export function failed(out: CliRun, message: RegExp): void {
  expect(out.code, out.stdout).toBe(1);
  expect(out.stderr).toMatch(message);
  expect(out.stderr).not.toMatch(/\n\s+at /);
}
