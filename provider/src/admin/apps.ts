import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { hashSecret, newSecret } from '../accounts/secrets.js';
import { AppError, notFound } from '../errors.js';
import type { PrismaClient } from '../storage/generated/client.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Redirect URIs: absolute, https (http only for loopback development), no fragment. */
export const redirectUriSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `redirect URI "${value}" is not an absolute URL` });
    return;
  }
  if (url.hash || value.includes('#')) ctx.addIssue({ code: 'custom', message: `redirect URI "${value}" must not contain a fragment` });
  const local = LOCAL_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    ctx.addIssue({ code: 'custom', message: `redirect URI "${value}" must use https (http is allowed for localhost only)` });
  }
});

const optionalUrl = z.string().url().max(2048).refine((v) => /^https?:/.test(v), 'must be an http(s) URL');

export const appInputSchema = z.object({
  name: z.string().trim().min(1).max(100),
  redirectUris: z.array(redirectUriSchema).min(1, 'at least one redirect URI is required').max(20),
  callbackDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9.-]+(:\d+)?$/, 'callback domain is a host name, optionally with a port')
    .optional(),
  logoUrl: optionalUrl.optional(),
  homepage: optionalUrl.optional(),
  description: z.string().max(1000).optional(),
  developerId: z.string().min(1).max(64).optional(),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
});
export type AppInput = z.infer<typeof appInputSchema>;

export const DEFAULT_DEVELOPER_ID = 'dev_default';

/** Pub/sub channel on which every instance hears that an app changed (drop its cached client). */
export const APPS_CHANGED = 'apps-changed';

/** WeChat AppIDs look like wx + 16 hex digits; ours are sm + 16 hex digits (64 random bits). */
const newAppId = () => `sm${randomBytes(8).toString('hex')}`;

type AppRow = Awaited<ReturnType<PrismaClient['app']['findUnique']>> & {};

/** An app as admins see it: everything but the secret hash. */
export function publicApp(a: AppRow) {
  const { secretHash: _hidden, ...rest } = a;
  return { ...rest, createdAt: a.createdAt.toISOString(), updatedAt: a.updatedAt.toISOString() };
}

export type Apps = ReturnType<typeof createApps>;

/**
 * Registering and managing apps. `changed(appId)` tells every instance to drop its cached
 * client (oidc/clients.ts) so an edit, a disable or a secret rotation takes effect at once.
 */
export function createApps(prisma: PrismaClient, changed: (appId: string) => Promise<void> = async () => {}) {
  async function ensureDeveloper(id: string) {
    await prisma.developerAccount.upsert({
      where: { id },
      create: { id, name: id === DEFAULT_DEVELOPER_ID ? 'Default developer account' : id },
      update: {},
    });
  }

  async function mustFind(appId: string) {
    const app = await prisma.app.findUnique({ where: { appId } });
    if (!app) throw notFound(`No app with AppID "${appId}".`);
    return app;
  }

  return {
    /** Creates an app; the returned appSecret is shown this once and stored only as a hash. */
    async create(raw: unknown, opts: { appId?: string } = {}) {
      const input = parse(raw);
      const developerId = input.developerId ?? DEFAULT_DEVELOPER_ID;
      await ensureDeveloper(developerId);
      const appSecret = newSecret();
      const app = await prisma.app.create({
        data: {
          appId: opts.appId ?? newAppId(),
          secretHash: hashSecret(appSecret),
          developerId,
          name: input.name,
          redirectUris: input.redirectUris,
          callbackDomain: input.callbackDomain ?? null,
          logoUrl: input.logoUrl ?? null,
          homepage: input.homepage ?? null,
          description: input.description ?? null,
          tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? 'client_secret_basic',
        },
      });
      return { ...publicApp(app), appSecret };
    },

    async list() {
      return (await prisma.app.findMany({ orderBy: { createdAt: 'asc' } })).map(publicApp);
    },

    async get(appId: string) {
      return publicApp(await mustFind(appId));
    },

    /** Issues a new AppSecret; the old one stops working at once (every instance is told). */
    async rotateSecret(appId: string) {
      await mustFind(appId);
      const appSecret = newSecret();
      await prisma.app.update({ where: { appId }, data: { secretHash: hashSecret(appSecret) } });
      await changed(appId);
      return { appId, appSecret };
    },

    async setStatus(appId: string, status: 'active' | 'disabled') {
      await mustFind(appId);
      const app = await prisma.app.update({ where: { appId }, data: { status } });
      await changed(appId);
      return publicApp(app);
    },

    async update(appId: string, raw: unknown) {
      await mustFind(appId);
      const input = parse(raw, true);
      const app = await prisma.app.update({ where: { appId }, data: input });
      await changed(appId);
      return publicApp(app);
    },
  };
}

function parse(raw: unknown, partial?: false): AppInput;
function parse(raw: unknown, partial: true): Partial<AppInput>;
function parse(raw: unknown, partial = false) {
  const schema = partial ? appInputSchema.partial() : appInputSchema;
  const result = schema.safeParse(raw);
  if (!result.success) {
    const message = result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw new AppError('invalid_request', 400, message);
  }
  return result.data;
}
