/**
 * `npm run admin -- <command>`: manage apps through the admin API (API.md §5). Commands live in
 * one table (name, options, help, handler); a new admin capability adds a row here and a route
 * in routes.ts, and works over both transports (cli-transport.ts).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsOptionDescriptor } from 'node:util';
import { loadConfig } from '../config.js';
import { AdminApiError, connectAdmin, type AdminConnection } from './cli-transport.js';

interface OptionSpec extends ParseArgsOptionDescriptor {
  help: string;
  /** The API body field it sets (create/update). */
  field?: string;
  required?: boolean;
}

export interface CommandContext {
  api: AdminConnection;
  args: string[];
  values: Record<string, string | string[] | boolean | undefined>;
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

type App = {
  appId: string;
  name: string;
  status: string;
  redirectUris: string[];
  callbackDomain: string | null;
  logoUrl: string | null;
  homepage: string | null;
  description: string | null;
  developerId: string;
  tokenEndpointAuthMethod: string;
  createdAt: string;
  updatedAt: string;
};

const appOptions = (requireCreateFields: boolean): Record<string, OptionSpec> => ({
  name: { type: 'string', field: 'name', required: requireCreateFields, help: "the app's name, shown on the QR page and the phone" },
  'redirect-uri': { type: 'string', multiple: true, field: 'redirectUris', required: requireCreateFields, help: 'an allowed redirect URI (repeat for several; https, or http on localhost)' },
  'callback-domain': { type: 'string', field: 'callbackDomain', help: 'WeChat-style callback domain (host[:port]) for /connect/qrconnect' },
  'logo-url': { type: 'string', field: 'logoUrl', help: 'logo shown on the QR page' },
  homepage: { type: 'string', field: 'homepage', help: "the site's home page" },
  description: { type: 'string', field: 'description', help: 'a note for administrators' },
  developer: { type: 'string', field: 'developerId', help: 'developer account id (apps of one developer share unionid; default dev_default)' },
});

/** The API body from the options that map to fields (only those given). */
function appBody(options: Record<string, OptionSpec>, values: CommandContext['values']) {
  const body: Record<string, unknown> = {};
  for (const [flag, spec] of Object.entries(options)) if (spec.field && values[flag] !== undefined) body[spec.field] = values[flag];
  return body;
}

function appText(a: App): string {
  const rows: [string, string | null][] = [
    ['AppID', a.appId],
    ['Name', a.name],
    ['Status', a.status],
    ['Redirect URIs', a.redirectUris.join('\n                 ')],
    ['Callback domain', a.callbackDomain],
    ['Logo URL', a.logoUrl],
    ['Homepage', a.homepage],
    ['Description', a.description],
    ['Developer', a.developerId],
    ['Client auth', a.tokenEndpointAuthMethod],
    ['Created', a.createdAt],
    ['Updated', a.updatedAt],
  ];
  return rows.map(([k, v]) => `${k.padEnd(16)} ${v ?? '–'}`).join('\n');
}

const secretWarning = (appId: string) =>
  `⚠ Store the AppSecret now: it will not be shown again (only a hash is kept).\n  Lost it? npm run admin -- apps:rotate-secret ${appId}`;

const appIdArg = (ctx: CommandContext) => encodeURIComponent(ctx.args[0]);

const setStatus = (action: 'disable' | 'enable'): Command => ({
  name: `apps:${action}`,
  summary: action === 'disable' ? 'Stop an app from logging anyone in (its tokens stop working)' : 'Allow a disabled app again',
  args: ['appId'],
  options: {},
  async run(ctx) {
    const app = await ctx.api.request<App>('POST', `/apps/${appIdArg(ctx)}/${action}`);
    return { json: app, text: `${app.name} (${app.appId}) is now ${app.status}.` };
  },
});

export const commands: Command[] = [
  {
    name: 'apps:create',
    summary: 'Register an app (website); prints its AppID and AppSecret once',
    args: [],
    options: appOptions(true),
    async run(ctx) {
      const app = await ctx.api.request<App & { appSecret: string }>('POST', '/apps', appBody(this.options, ctx.values));
      return { json: app, text: `Created ${app.name}\n\n${appText(app)}\nAppSecret        ${app.appSecret}\n\n${secretWarning(app.appId)}` };
    },
  },
  {
    name: 'apps:list',
    summary: 'List all apps',
    args: [],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ apps: App[] }>('GET', '/apps');
      if (!out.apps.length) return { json: out, text: 'No apps yet. Create one: npm run admin -- apps:create --name "My Site" --redirect-uri https://example.com/callback' };
      const rows = out.apps.map((a) => [a.appId, a.status, a.name, a.redirectUris[0] + (a.redirectUris.length > 1 ? ` (+${a.redirectUris.length - 1})` : '')]);
      const all = [['APPID', 'STATUS', 'NAME', 'REDIRECT URI'], ...rows];
      const widths = [0, 1, 2].map((i) => Math.max(...all.map((r) => [...r[i]].length)));
      return { json: out, text: all.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ')).join('\n') };
    },
  },
  {
    name: 'apps:show',
    summary: "Show one app's settings",
    args: ['appId'],
    options: {},
    async run(ctx) {
      const app = await ctx.api.request<App>('GET', `/apps/${appIdArg(ctx)}`);
      return { json: app, text: appText(app) };
    },
  },
  {
    name: 'apps:update',
    summary: "Change an app's settings (--redirect-uri replaces the whole list)",
    args: ['appId'],
    options: appOptions(false),
    async run(ctx) {
      const body = appBody(this.options, ctx.values);
      if (!Object.keys(body).length) throw new UsageError('Nothing to update: give at least one option, e.g. --name or --redirect-uri.');
      const app = await ctx.api.request<App>('PATCH', `/apps/${appIdArg(ctx)}`, body);
      return { json: app, text: `Updated.\n\n${appText(app)}` };
    },
  },
  {
    name: 'apps:rotate-secret',
    summary: 'Issue a new AppSecret; the old one stops working at once',
    args: ['appId'],
    options: {},
    async run(ctx) {
      const out = await ctx.api.request<{ appId: string; appSecret: string }>('POST', `/apps/${appIdArg(ctx)}/secret`);
      return { json: out, text: `New AppSecret for ${out.appId}: ${out.appSecret}\nThe previous secret no longer works.\n\n${secretWarning(out.appId)}` };
    },
  },
  setStatus('disable'),
  setStatus('enable'),
];

class UsageError extends Error {}

const GLOBAL_OPTIONS = {
  json: { type: 'boolean', help: 'machine-readable output (errors too, on stderr)' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
} satisfies Record<string, OptionSpec>;

function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Saoma admin — manage the apps (websites) that log people in with Saoma.

Usage: npm run admin -- <command> [arguments] [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options for every command:
  --json   machine-readable output
  --help   help for a command, e.g. npm run admin -- apps:create --help

Where it connects: to the running provider through DATA_DIR/admin.sock (DATA_DIR defaults to .saoma);
with no provider running, straight to the database (DATABASE_URL, or the embedded one in DATA_DIR).`;
}

function commandHelp(c: Command): string {
  const usage = [`npm run admin -- ${c.name}`, ...c.args.map((a) => `<${a}>`), ...Object.entries(c.options).filter(([, o]) => o.required).map(([k]) => `--${k} …`), '[options]'].join(' ');
  const all = { ...c.options, ...GLOBAL_OPTIONS } as Record<string, OptionSpec>;
  const flags = Object.entries(all).map(([k, o]) => [`--${k}${o.type === 'string' ? ` ${k === 'redirect-uri' ? 'URI' : 'VALUE'}` : ''}`, `${o.help}${o.required ? ' (required)' : ''}`]);
  const width = Math.max(...flags.map(([f]) => f.length));
  return `${c.summary}\n\nUsage: ${usage}\n\nOptions:\n${flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`).join('\n')}`;
}

/** Runs one CLI invocation; returns the exit code. Output goes to the given writers (tests, stdio). */
export async function runCli(argv: string[], io = { out: (s: string) => console.log(s), err: (s: string) => console.error(s) }, env = process.env): Promise<number> {
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
    return fail('invalid_usage', `${command.name} takes ${expected}${positionals.length ? ` (got "${positionals.join(' ')}")` : ''}. See npm run admin -- ${command.name} --help`);
  }
  const missing = Object.entries(command.options).filter(([k, o]) => o.required && values[k] === undefined);
  if (missing.length) return fail('invalid_usage', `${command.name} needs ${missing.map(([k]) => `--${k}`).join(' and ')}. See npm run admin -- ${command.name} --help`);

  let api: AdminConnection | undefined;
  try {
    api = await connectAdmin(loadConfig(env));
    const result = await command.run.call(command, { api, args: positionals, values });
    io.out(values.json ? JSON.stringify(result.json, null, 2) : result.text);
    return 0;
  } catch (err) {
    if (err instanceof AdminApiError) return fail(err.code, err.description);
    if (err instanceof UsageError) return fail('invalid_usage', err.message);
    return fail('admin_failed', (err as Error).message ?? String(err));
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
