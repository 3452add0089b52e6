import type { RequestHandler } from 'express';
import { z } from 'zod';
import { parseWith } from '../../http/guard.js';
import type { Operation } from '../../http/openapi.js';
import { sourceInputSchema, sourcePatchSchema } from '../../identity/source-input.js';
import type { IdentitySources } from '../../identity/sources.js';
import { actorOf, type AdminAudit } from '../audit.js';
import * as out from './schemas.js';

const sourceParam = z.object({ sourceId: z.string().min(1).max(64) });
const sourceOf = (params: unknown) => parseWith(sourceParam, params).sourceId;
const ok = <S extends z.ZodType>(description: string, schema: S) => ({ 200: { description, schema } });

/** Identity sources below /api/admin: trusted sign-in for the organisation's app, and OpenID Connect sign-in. */
export function identityRoutes(deps: { route: (op: Operation, ...handlers: RequestHandler[]) => void; sources: IdentitySources; record: AdminAudit }): void {
  const { route, sources, record } = deps;
  const tags = ['identity-sources'];

  route(
    {
      method: 'get',
      path: '/identity-sources',
      tags,
      summary: 'List identity sources',
      responses: ok('Sources', z.object({ sources: z.array(out.identitySourceSchema) })),
    },
    async (_req, res) => {
      res.json({ sources: await sources.list() });
    },
  );
  route(
    {
      method: 'post',
      path: '/identity-sources',
      tags,
      summary:
        "Register an identity source: kind assertion (the organisation's backend signs short-lived JWTs its app exchanges) or oidc (sign in with its OpenID provider on /app)",
      body: sourceInputSchema,
      responses: { 201: { description: 'The source (never its client secret)', schema: out.identitySourceSchema } },
    },
    async (req, res) => {
      const created = await sources.create(req.body);
      await record('identity_source.created', actorOf(res), { detail: { sourceId: created.id, kind: created.kind, issuer: created.issuer } });
      res.status(201).json(created);
    },
  );
  route(
    {
      method: 'get',
      path: '/identity-sources/:sourceId',
      tags,
      summary: 'Show an identity source',
      params: sourceParam,
      responses: ok('The source', out.identitySourceSchema),
    },
    async (req, res) => {
      res.json(await sources.show(sourceOf(req.params)));
    },
  );
  route(
    {
      method: 'patch',
      path: '/identity-sources/:sourceId',
      tags,
      summary: 'Change an identity source (only the fields given; its kind and id never change)',
      params: sourceParam,
      body: sourcePatchSchema,
      responses: ok('The source', out.identitySourceSchema),
    },
    async (req, res) => {
      const id = sourceOf(req.params);
      const updated = await sources.update(id, req.body);
      // Field names only: a client secret's value never reaches the trail.
      await record('identity_source.updated', actorOf(res), { detail: { sourceId: id, fields: Object.keys((req.body ?? {}) as object) } });
      res.json(updated);
    },
  );
  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    const summary =
      status === 'disabled'
        ? 'Stop sign-ins through a source, at once on every instance (people and links stay)'
        : 'Allow sign-ins through a disabled source again';
    route(
      {
        method: 'post',
        path: `/identity-sources/:sourceId/${action}`,
        tags,
        summary,
        params: sourceParam,
        responses: ok('The source', out.identitySourceSchema),
      },
      async (req, res) => {
        const source = await sources.setStatus(sourceOf(req.params), status);
        await record('identity_source.status_changed', actorOf(res), { detail: { sourceId: source.id, status } });
        res.json(source);
      },
    );
  }
  route(
    {
      method: 'delete',
      path: '/identity-sources/:sourceId',
      tags,
      summary: 'Delete a source and its links (the people stay)',
      params: sourceParam,
      responses: ok('Deleted', out.deletedSourceSchema),
    },
    async (req, res) => {
      const deleted = await sources.delete(sourceOf(req.params));
      await record('identity_source.deleted', actorOf(res), { detail: { sourceId: deleted.id, links: deleted.links } });
      res.json(deleted);
    },
  );
}
