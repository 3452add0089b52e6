/**
 * `npm run phone -- <command>`: a phone on the command line. It speaks the phone API
 * (API.md §3) over HTTP exactly as the phone app does, and shows what the app would show.
 */
import { parseArgs } from 'node:util';

const HELP = `Saoma phone (command line) — approve or deny a QR login without a phone.

Usage:
  npm run phone -- approve <QR link or qrId> [options]   sign in, scan, show the request, confirm
  npm run phone -- deny <QR link or qrId> [options]      … and deny instead
  npm run phone -- register --user NAME --password PW [--nickname NICK]

Options:
  --issuer URL      the provider (default: the QR link's origin, else http://localhost:3000)
  --user NAME       username to sign in as (default: demo)
  --password PW     its password (default: saoma-demo)
  --nickname NICK   register only: the name sites see
  --help            this help

The QR link is the text under the QR code on the login page ("can't scan? open this link").`;

class PhoneError extends Error {}

interface ScanResult {
  qrId: string;
  app: { appId: string; name: string; homepage: string | null; domain?: string | null };
  scopes: string[];
  requester: { ip: string; userAgent: string; createdAt: string; sameNetworkAsPhone?: boolean };
  expiresAt: string;
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'know who you are (an identifier for this site only)',
  profile: 'see your nickname and picture',
  offline_access: 'stay signed in (refresh tokens)',
};

function phoneApi(issuer: string) {
  let token: string | undefined;
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${issuer}/api/mobile${path}`, {
        method,
        headers: {
          'user-agent': 'SaomaPhoneCLI/1.0',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new PhoneError(
        `Could not reach Saoma at ${issuer} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}). Is it running? Try \`npm start\`, or pass --issuer.`,
      );
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* not JSON: described below */
    }
    if (!res.ok) {
      const description = typeof json.error_description === 'string' ? json.error_description : `HTTP ${res.status} from ${issuer}${path}`;
      throw new PhoneError(`${description} (${res.status}${typeof json.error === 'string' ? ` ${json.error}` : ''})`);
    }
    return json as T;
  }
  return {
    call,
    async signIn(username: string, password: string) {
      const out = await call<{ token: string; user: { nickname: string; username: string } }>('POST', '/login', {
        username,
        password,
        deviceName: 'Saoma phone CLI',
      });
      token = out.token;
      return out.user;
    },
    async signOut() {
      if (token) await call('POST', '/logout').catch(() => {});
      token = undefined;
    },
  };
}

function describeRequest(scan: ScanResult): string {
  const lines = [
    '',
    `  ${scan.app.name} wants to log you in`,
    `    Site:        ${scan.app.domain ?? scan.app.homepage ?? scan.app.appId}   (AppID ${scan.app.appId})`,
    `    It will:     ${scan.scopes.map((s) => SCOPE_TEXT[s] ?? s).join('; ')}`,
    `    Requested from ${scan.requester.ip || 'an unknown address'} at ${scan.requester.createdAt}`,
    `    Browser:     ${scan.requester.userAgent || 'unknown'}`,
    `    QR expires:  ${scan.expiresAt}`,
  ];
  if (scan.requester.sameNetworkAsPhone === false) {
    lines.push(
      '',
      "  ⚠ The computer asking to log in is NOT on this phone's network.",
      '    If you did not just start this login yourself, deny it: someone may be trying to use your account.',
    );
  }
  return lines.join('\n');
}

async function decide(decision: 'approve' | 'deny', link: string, o: { issuer?: string; user: string; password: string }) {
  let origin: string | undefined;
  try {
    origin = new URL(link).origin;
  } catch {
    /* a bare qrId */
  }
  const issuer = (o.issuer ?? origin ?? 'http://localhost:3000').replace(/\/+$/, '');
  const api = phoneApi(issuer);
  const user = await api.signIn(o.user, o.password);
  console.log(`Signed in to ${issuer} as ${user.nickname} (${user.username}).`);
  try {
    const scan = await api.call<ScanResult>('POST', '/scans', { payload: link });
    console.log(describeRequest(scan));
    const action = decision === 'approve' ? 'confirm' : 'deny';
    const out = await api.call<{ status: string }>('POST', `/scans/${encodeURIComponent(scan.qrId)}/${action}`);
    console.log(
      out.status === 'confirmed'
        ? `\n✓ Approved. The browser now finishes the login at ${scan.app.name}.`
        : `\n✗ Denied. ${scan.app.name} is told that you declined.`,
    );
  } finally {
    await api.signOut(); // one device token per run, gone afterwards
  }
}

async function register(o: { issuer?: string; user: string; password: string; nickname?: string }) {
  const issuer = (o.issuer ?? 'http://localhost:3000').replace(/\/+$/, '');
  const out = await phoneApi(issuer).call<{ user: { username: string; nickname: string } }>('POST', '/register', {
    username: o.user,
    password: o.password,
    ...(o.nickname ? { nickname: o.nickname } : {}),
  });
  console.log(`Registered ${out.user.username} (${out.user.nickname}) at ${issuer}.`);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      issuer: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      nickname: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(HELP);
    if (!values.help) process.exitCode = 1;
    return;
  }
  const creds = { issuer: values.issuer, user: values.user ?? 'demo', password: values.password ?? 'saoma-demo' };
  switch (command) {
    case 'approve':
    case 'deny':
      if (rest.length !== 1) throw new PhoneError(`${command} needs exactly one QR link or qrId, e.g. npm run phone -- ${command} http://localhost:3000/q/…`);
      return decide(command, rest[0], creds);
    case 'register':
      if (!values.user || !values.password) throw new PhoneError('register needs --user and --password.');
      if (rest.length) throw new PhoneError(`register takes no arguments (got "${rest.join(' ')}").`);
      return register({ ...creds, nickname: values.nickname });
    default:
      throw new PhoneError(`Unknown command "${command}". Commands: approve, deny, register. See --help.`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  // parseArgs' own errors (unknown option, missing value) are usage errors, worded well enough.
  const message = err instanceof PhoneError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? (err as Error).message : String(err);
  console.error(`error: ${message}`);
  process.exitCode = 1;
}
