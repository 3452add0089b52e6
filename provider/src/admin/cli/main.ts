/**
 * `npm run admin -- <command>`: administer the provider through the admin API (API.md §5).
 * Commands live in tables (apps.ts, accounts.ts: name, options, help, handler); a new
 * admin capability adds a row there and a route in ../api/routes.ts, and works over every transport
 * (transport.ts).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config.js';
import { adminCommands, developerCommands, tokenCommands } from './accounts.js';
import { appCommands } from './apps.js';
import { identityCommands } from './identity.js';
import { userCommands } from './people.js';
import { keyCommands } from './keys.js';
import { UsageError, type Command, type CommandContext, type OptionSpec } from './kit.js';
import { terminalPrompter } from './prompt.js';
import { AdminApiError, connectAdmin, type AdminConnection } from './transport.js';

export type { Command, CommandContext } from './kit.js';

export const commands: Command[] = [
  ...appCommands,
  ...developerCommands,
  ...userCommands,
  ...identityCommands,
  ...tokenCommands,
  ...adminCommands,
  ...keyCommands,
];

const GLOBAL_OPTIONS = {
  json: { type: 'boolean', help: 'machine-readable output (errors too, on stderr)' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
} satisfies Record<string, OptionSpec>;

function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const groups = [...new Set(commands.map((c) => c.name.split(':')[0]))];
  return `Saoma admin — manage the apps (websites) that log people in with Saoma, their developer
accounts, people (their sign-in methods, linked identities, authorizations), identity sources,
admin API tokens, console admins and the provider's keys.

Usage: npm run admin -- <command> [arguments] [options]

Commands:
${groups
  .map((g) =>
    commands
      .filter((c) => c.name.startsWith(`${g}:`))
      .map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
      .join('\n'),
  )
  .join('\n\n')}

Options for every command:
  --json   machine-readable output
  --help   help for a command, e.g. npm run admin -- apps:create --help

Where it connects: with SAOMA_ADMIN_URL and SAOMA_ADMIN_TOKEN set, to that provider over HTTP(S)
with the admin token; otherwise to the running provider through DATA_DIR/admin.sock (DATA_DIR
defaults to .saoma); with no provider running, straight to the database (DATABASE_URL, or the
embedded one in DATA_DIR).`;
}

function commandHelp(c: Command): string {
  const usage = [
    `npm run admin -- ${c.name}`,
    ...c.args.map((a) => `<${a}>`),
    ...Object.entries(c.options)
      .filter(([, o]) => o.required)
      .map(([k]) => `--${k} …`),
    '[options]',
  ].join(' ');
  const all = { ...c.options, ...GLOBAL_OPTIONS } as Record<string, OptionSpec>;
  const flags = Object.entries(all).map(([k, o]) => [
    `--${k}${o.type === 'string' ? ` ${o.meta ?? 'VALUE'}` : ''}`,
    `${o.help}${o.required ? ' (required)' : ''}`,
  ]);
  const width = Math.max(...flags.map(([f]) => f.length));
  return `${c.summary}\n\nUsage: ${usage}\n\nOptions:\n${flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`).join('\n')}`;
}

/** Runs one CLI invocation; returns the exit code. Output goes to the given writers (tests, stdio). */
export async function runCli(
  argv: string[],
  io = { out: (s: string) => console.log(s), err: (s: string) => console.error(s) },
  env: Record<string, string | undefined> = process.env,
  prompt = terminalPrompter(),
): Promise<number> {
  const wantsJson = argv.includes('--json');
  const fail = (code: string, description: string) => {
    io.err(wantsJson ? JSON.stringify({ error: code, error_description: description }) : `error: ${description}`);
    return 1;
  };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || (name === '--json' && rest.every((a) => a === '--help' || a === '-h'))) {
    io.out(globalHelp());
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) return fail('unknown_command', `Unknown command "${name}". Run npm run admin -- --help for the list.`);

  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, ...GLOBAL_OPTIONS }, allowPositionals: true, strict: true });
  } catch (err) {
    return fail('invalid_usage', `${(err as Error).message.split('. To specify')[0].replace(/\.$/, '')}. See npm run admin -- ${command.name} --help`);
  }
  const { positionals } = parsed;
  const values = parsed.values as CommandContext['values'];
  if (values.help) {
    io.out(commandHelp(command));
    return 0;
  }
  if (positionals.length !== command.args.length) {
    const expected = command.args.length ? command.args.map((a) => `<${a}>`).join(' ') : 'no arguments';
    return fail(
      'invalid_usage',
      `${command.name} takes ${expected}${positionals.length ? ` (got "${positionals.join(' ')}")` : ''}. See npm run admin -- ${command.name} --help`,
    );
  }
  const missing = Object.entries(command.options).filter(([k, o]) => o.required && values[k] === undefined);
  if (missing.length)
    return fail('invalid_usage', `${command.name} needs ${missing.map(([k]) => `--${k}`).join(' and ')}. See npm run admin -- ${command.name} --help`);

  let api: AdminConnection | undefined;
  try {
    api = await connectAdmin(loadConfig(env), env);
    const result = await command.run.call(command, { api, args: positionals, values, prompt });
    io.out(values.json ? JSON.stringify(result.json, null, 2) : result.text);
    return 0;
  } catch (err) {
    if (err instanceof AdminApiError) return fail(err.code, err.description);
    if (err instanceof UsageError) return fail('invalid_usage', err.message);
    return fail('admin_failed', err instanceof Error ? err.message : String(err));
  } finally {
    await api?.close().catch(() => {});
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const code = await runCli(process.argv.slice(2));
  // Flush before exiting: a database driver may keep the event loop alive after close().
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
