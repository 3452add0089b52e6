/**
 * What every `npm run admin` command is made of: its spec (name, arguments, options, help) and
 * the few helpers commands share. The runner is main.ts; the commands are apps.ts and
 * accounts.ts.
 */
import type { ParseArgsOptionDescriptor } from 'node:util';
import type { AdminConnection } from './transport.js';

export interface OptionSpec extends ParseArgsOptionDescriptor {
  help: string;
  /** The API body field it sets (create/update). */
  field?: string;
  required?: boolean;
  /** Placeholder in help, e.g. URI or SECONDS (default VALUE). */
  meta?: string;
}

/** Asking the person at the terminal: hidden input for passwords, a line for confirmations. */
export interface Prompter {
  /** True when stdin is a terminal (prompts are possible). */
  interactive: boolean;
  secret(question: string): Promise<string>;
  line(question: string): Promise<string>;
  /** All of stdin (for --password-stdin), without the trailing newline. */
  stdin(): Promise<string>;
}

export interface CommandContext {
  api: AdminConnection;
  args: string[];
  values: Record<string, string | string[] | boolean | undefined>;
  prompt: Prompter;
}

export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, in order, e.g. ['appId']. */
  args: string[];
  options: Record<string, OptionSpec>;
  /** Returns the API's answer (printed as-is with --json) and the text for people. */
  run(ctx: CommandContext): Promise<{ json: unknown; text: string }>;
}

/** Wrong use of a command (exit 1, `invalid_usage`). */
export class UsageError extends Error {}

/** The n-th positional argument, safe to put in an API path. */
export const argPath = (ctx: CommandContext, i = 0) => encodeURIComponent(ctx.args[i]);

/** Aligned columns; the last column is not padded. */
export function columns(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  // eslint-disable-next-line @typescript-eslint/no-misused-spread -- a width in code points (what padEnd counts in is UTF-16 units; close enough for a terminal)
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  return all.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('  ')).join('\n');
}

/** Label/value lines, as `apps:show` prints them. */
export const fields = (rows: [string, string | null | undefined][]) => rows.map(([k, v]) => `${k.padEnd(16)} ${v ?? '–'}`).join('\n');

/** The body fields a command's options set (only those given). */
export function bodyFrom(options: Record<string, OptionSpec>, values: CommandContext['values']) {
  const body: Record<string, unknown> = {};
  for (const [flag, spec] of Object.entries(options)) if (spec.field && values[flag] !== undefined) body[spec.field] = values[flag];
  return body;
}

/**
 * A password from --password, --password-stdin or (on a terminal) a hidden prompt asked twice.
 * --password shows in `ps` and shell history; help says so.
 */
export async function passwordFrom(ctx: CommandContext): Promise<string> {
  if (typeof ctx.values.password === 'string') return ctx.values.password;
  if (ctx.values['password-stdin']) return ctx.prompt.stdin();
  if (!ctx.prompt.interactive)
    throw new UsageError('No password given: use --password-stdin (e.g. printf %s "$PW" | npm run admin -- …) or run in a terminal to be asked.');
  const first = await ctx.prompt.secret('Password (at least 12 characters): ');
  const again = await ctx.prompt.secret('Same password again: ');
  if (first !== again) throw new UsageError('The two passwords differ; nothing was changed.');
  return first;
}

export const passwordOptions: Record<string, OptionSpec> = {
  password: { type: 'string', help: 'the password (visible in ps and shell history: prefer the prompt or --password-stdin)' },
  'password-stdin': { type: 'boolean', help: 'read the password from stdin' },
};

/**
 * A destructive command goes ahead with --yes, or when the person types `expected` at the
 * prompt; without a terminal and without --yes it refuses.
 */
export async function confirmed(ctx: CommandContext, what: string, expected: string): Promise<void> {
  if (ctx.values.yes) return;
  if (!ctx.prompt.interactive) throw new UsageError(`Refusing to ${what} without confirmation: add --yes.`);
  const typed = await ctx.prompt.line(`This will ${what}. It cannot be undone.\nType "${expected}" to confirm: `);
  if (typed.trim() !== expected) throw new UsageError('Not confirmed; nothing was changed.');
}

export const yesOption: Record<string, OptionSpec> = { yes: { type: 'boolean', short: 'y', help: 'do it without asking (scripts)' } };
