import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { commonError, notFound } from '../errors.js';
import { noStore } from '../http/guard.js';
import { createApiSpec, errorsOf, withInput, type Input, type Operation } from '../http/openapi.js';
import type { DeviceTokens } from './device-tokens.js';
import { requireDevice } from './device-tokens.js';

/**
 * The phone API as a contract (`/api/mobile/openapi.json`): every phone route is declared on
 * this `Api` by the capability that owns it — mobile/routes.ts (accounts, scans,
 * authorizations), passkeys/phone-routes.ts, identity/phone-routes.ts — with its schemas and
 * error codes; the same declaration parses the request (http/openapi.ts `withInput`) and
 * writes the document. Every operation says whether it needs the device token.
 */
export type Api = ReturnType<typeof createPhoneApi>;

/** Every phone error answer: our JSON errors with the request id. */
const errorSchema = z.object({
  error: z.string().describe('A code from the closed list of the operation'),
  error_description: z.string().describe('What happened, for people'),
  request_id: z.string().optional().describe('The X-Request-Id of the request (its log lines carry it)'),
});

export function createPhoneApi() {
  const spec = createApiSpec(
    {
      title: 'Saoma phone API',
      version: '1',
      description:
        "What a phone app (Saoma's own web app, /app, or an organisation's iOS or Android app) calls to sign a person in, scan a login QR code, confirm or deny it, and manage what the person approved. JSON in and out; errors are `{error, error_description}` with the status given. docs/NATIVE-APP.md walks through it with transcripts.",
    },
    {
      basePath: '/api/mobile',
      errorSchema,
      securitySchemes: { deviceToken: { type: 'http', scheme: 'bearer', description: 'The device token (`sdt_…`) a sign-in returned.' } },
      authErrors: errorsOf(commonError, 'invalid_token'),
      commonErrors: [
        ...errorsOf(commonError, 'invalid_request', 'rate_limited', 'temporarily_unavailable'),
        { code: 'invalid_request', status: 413, description: 'The request body is too large.' },
      ],
    },
  );
  return {
    /** Mounts and documents one operation: `before` (the device check, a rate limit), then the parsed input to `handler`. */
    route<const O extends Operation>(router: Router, op: O, before: RequestHandler[], handler: (input: Input<O>, req: Request, res: Response) => unknown) {
      // A phone operation without `security` is public: say so, rather than inherit the device token.
      spec.route(router, { ...op, security: op.security ?? [], errors: op.errors ?? [] }, ...before, withInput(op, handler));
    },
    operations: spec.operations,
    document: spec.document,
  };
}

/** What a phone route gets besides its own services: the API it declares on, and the device check. */
export interface PhoneRouteKit {
  api: Api;
  /** `Authorization: Bearer <device token>` → res.locals.user, or 401. */
  auth: ReturnType<typeof requireDevice>;
  who: (req: Request) => { ip: string | null; userAgent: string | null };
}

export const phoneKit = (api: Api, tokens: DeviceTokens): PhoneRouteKit => ({
  api,
  auth: requireDevice(tokens),
  who: (req) => ({ ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null }),
});

/** `/api/mobile`: JSON parsing, the capabilities' routes, the document, and a JSON 404. */
export function phoneApiRouter(api: Api, routers: Router[], issuer: string): Router {
  const router = Router();
  router.use(noStore, express.json({ limit: '16kb' }));
  for (const r of routers) router.use(r);
  router.get('/openapi.json', (_req, res) => {
    // Public and the same for everyone: cacheable, unlike the rest of the API.
    res.set('Cache-Control', 'public, max-age=300').removeHeader('Pragma');
    res.json({ ...api.document(), servers: [{ url: issuer }] });
  });
  router.use((_req, _res) => {
    throw notFound('No such phone API endpoint.');
  });
  return router;
}
