/**
 * The floor the library sets: a plain oidc-provider 9 authorization-code flow whose login step
 * costs nothing. Same express, same Node, same worker count and the same Redis as the provider
 * under test; one static client; the interaction route finishes at once with a fixed account
 * and a consent grant. Without REDIS_URL it uses oidc-provider's own memory adapter.
 *
 * Env: PORT, HOST, PUBLIC_URL, REDIS_URL, REDIS_PREFIX, BASELINE_JWKS, COOKIE_KEYS,
 * BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_REDIRECT_URI. Flags: --workers N.
 */
import './instrument.js';
import http from 'node:http';
import type { Redis } from 'ioredis';
import type { Adapter, AdapterPayload, Configuration } from 'oidc-provider';
import { serve } from './cluster.js';

const env = process.env;
const workersAt = process.argv.indexOf('--workers');
const workers = workersAt > 0 ? Number(process.argv[workersAt + 1]) : 1;

const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);
const consumable = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * oidc-provider's own example Redis adapter, typed, with a key prefix (ioredis keyPrefix).
 * @see https://github.com/panva/node-oidc-provider/blob/10ddb25c4aa8a5f23261f2aa85f19f4750ee7333/example/adapters/redis.js
 */
function redisAdapter(client: Redis) {
  return class RedisAdapter implements Adapter {
    constructor(readonly name: string) {}
    key(id: string) {
      return `${this.name}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      const key = this.key(id);
      const multi = client.multi();
      if (consumable.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (grantable.has(this.name) && payload.grantId) {
        const grantKey = `grant:${payload.grantId}`;
        multi.rpush(grantKey, key);
        const ttl = await client.ttl(grantKey);
        if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
      }
      if (payload.userCode) multi.set(`userCode:${payload.userCode}`, id, 'EX', expiresIn);
      if (payload.uid) multi.set(`uid:${payload.uid}`, id, 'EX', expiresIn);
      await multi.exec();
    }
    async find(id: string) {
      if (consumable.has(this.name)) {
        const data = await client.hgetall(this.key(id));
        if (!data.payload) return undefined;
        const { payload, ...rest } = data;
        return { ...rest, ...JSON.parse(payload) } as AdapterPayload;
      }
      const data = await client.get(this.key(id));
      return data ? (JSON.parse(data) as AdapterPayload) : undefined;
    }
    async findByUid(uid: string) {
      const id = await client.get(`uid:${uid}`);
      return id ? this.find(id) : undefined;
    }
    async findByUserCode(userCode: string) {
      const id = await client.get(`userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }
    async destroy(id: string) {
      await client.del(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      const multi = client.multi();
      for (const token of await client.lrange(`grant:${grantId}`, 0, -1)) multi.del(token);
      multi.del(`grant:${grantId}`);
      await multi.exec();
    }
    async consume(id: string) {
      await client.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }
  };
}

async function start(): Promise<{ url: string; close(): Promise<void> }> {
  // Imported here, in the process that serves: a cluster primary only forwards connections.
  const { default: express } = await import('express');
  const { Redis } = await import('ioredis');
  const { default: Provider } = await import('oidc-provider');
  const { redisOptionsFromUrl } = await import('../provider/src/storage/ephemeral.redis.js');
  const prefix = `${env.REDIS_PREFIX ?? 'saoma-bench:'}baseline:`;
  const redis = env.REDIS_URL ? new Redis({ ...redisOptionsFromUrl(env.REDIS_URL), keyPrefix: prefix, connectionName: `${prefix}cmd` }) : undefined;
  const configuration: Configuration = {
    ...(redis ? { adapter: redisAdapter(redis) } : {}),
    clients: [
      {
        client_id: env.BENCH_CLIENT_ID!,
        client_secret: env.BENCH_CLIENT_SECRET!,
        redirect_uris: [env.BENCH_REDIRECT_URI!],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: (env.BASELINE_ALG ?? 'RS256') as 'RS256' | 'ES256',
      },
    ],
    jwks: JSON.parse(env.BASELINE_JWKS!) as Configuration['jwks'],
    cookies: { keys: env.COOKIE_KEYS!.split(',') },
    features: { devInteractions: { enabled: false } },
    // oidc-provider's default lifetimes, spelled out (its defaults print a notice per worker).
    ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 14 * 24 * 3600, IdToken: 3600, Interaction: 3600, Session: 14 * 24 * 3600 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, accountId) => ({ accountId, claims: () => ({ sub: accountId }) }),
  };
  const provider = new Provider(env.PUBLIC_URL!, configuration);

  const app = express();
  app.disable('x-powered-by');
  // The free login step: whoever arrives is "bench-user" and consents to what was asked.
  app.get('/interaction/:uid', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId: 'bench-user', clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: 'bench-user' }, consent: { grantId } }, { mergeWithLastSubmission: false });
  });
  app.use(provider.callback());

  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(Number(env.PORT), env.HOST ?? '127.0.0.1', resolve));
  return {
    url: env.PUBLIC_URL!,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      redis?.disconnect();
    },
  };
}

await serve(workers, start);
