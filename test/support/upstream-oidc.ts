/**
 * A second OpenID provider, started by the test, standing for an organisation's SSO (Okta,
 * Entra ID, Keycloak… all speak the same protocol): oidc-provider on its own port with one
 * static client (Saoma), PKCE required, and an interaction that signs in `next` at once
 * (or refuses, as a person cancelling would) instead of showing a login form.
 */
import express from 'express';
import Provider from 'oidc-provider';
import type { TestProvider } from './harness.js';
import { freePort } from './services.js';

export interface UpstreamPerson {
  sub: string;
  name?: string;
  picture?: string;
}

export interface Upstream {
  issuer: string;
  client: { clientId: string; clientSecret: string };
  /** Who the next sign-in is. */
  next: UpstreamPerson;
  /** The next sign-in is refused, as a person cancelling would. */
  deny: boolean;
  /** Authorization requests seen (their query parameters). */
  requests: URLSearchParams[];
  close(): Promise<void>;
}

/** An upstream provider that `p` knows as the OpenID Connect sign-in source `id`, named "Acme Corp SSO". */
export async function startUpstreamSource(p: TestProvider, id: string): Promise<Upstream> {
  const upstream = await startUpstreamOidc([`${p.issuer}/app/sso/${id}/callback`]);
  try {
    await p.saoma.identity.sources.create({
      id,
      kind: 'oidc',
      name: 'Acme Corp SSO',
      issuer: upstream.issuer,
      clientId: upstream.client.clientId,
      clientSecret: upstream.client.clientSecret,
    });
  } catch (err) {
    await upstream.close();
    throw err;
  }
  return upstream;
}

async function startUpstreamOidc(redirectUris: string[]): Promise<Upstream> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const client = { clientId: 'saoma', clientSecret: 'upstream-secret-for-saoma-0123456789' };
  const people = new Map<string, UpstreamPerson>();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: redirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    claims: { openid: ['sub'], profile: ['name', 'picture'] },
    cookies: { keys: ['upstream-cookie-key'] },
    // Set, so oidc-provider does not print a notice for each default it would otherwise use.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount(_ctx, id) {
      const person = people.get(id);
      return person ? { accountId: id, claims: () => ({ ...person }) } : undefined;
    },
  });
  const upstream: Upstream = { issuer, client, next: { sub: 'nobody' }, deny: false, requests: [], close: async () => {} };

  const app = express();
  app.use((req, _res, next) => {
    if (req.path === '/auth') upstream.requests.push(new URLSearchParams(req.url.split('?')[1] ?? ''));
    next();
  });
  app.get('/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (upstream.deny) {
        await provider.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'The person cancelled.' },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      if (details.prompt.name === 'login') {
        people.set(upstream.next.sub, upstream.next);
        await provider.interactionFinished(req, res, { login: { accountId: upstream.next.sub } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    } catch (err) {
      next(err);
    }
  });
  app.use(provider.callback());
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  upstream.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return upstream;
}
