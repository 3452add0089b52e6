import type { RequestHandler } from 'express';
import { z } from 'zod';
import { parseWith } from '../../http/guard.js';
import type { Operation } from '../../http/openapi.js';
import { adminCreateSchema, adminPasswordBody, type AdminAccounts } from '../admins.js';
import { actorOf, adminIdOf, type AdminAudit } from '../audit.js';
import { developerCreateSchema, developerUpdateSchema, type Developers } from '../developers.js';
import { userSearchQuery, type AdminUsers } from '../people.js';
import { tokenCreateSchema, type AdminTokens } from '../tokens.js';
import { auditQuery, type Usage } from '../usage.js';
import * as out from './schemas.js';

const ref = (name: string) => z.object({ [name]: z.string().min(1).max(100) });
const param = (name: string, params: unknown) => parseWith(ref(name), params)[name];
const userAppParams = z.object({ userId: z.string().min(1).max(100), appId: z.string().min(1).max(64) });
const developerParam = ref('developerId');
const userParam = z.object({ userId: z.string().min(1).max(100).describe('User id or username') });
const tokenParam = z.object({ tokenId: z.string().min(1).max(100).describe('Token id, or the name of exactly one active token') });
const adminParam = z.object({ admin: z.string().min(1).max(100).describe('Admin id or username') });

export interface AccountRouteDeps {
  /** Mounts and documents one operation (http/openapi.ts `route`, bound to the admin router). */
  route: (op: Operation, ...handlers: RequestHandler[]) => void;
  developers: Developers;
  admins: AdminAccounts;
  tokens: AdminTokens;
  usage: Usage;
  users: AdminUsers;
  record: AdminAudit;
}

/** Developer accounts, people (users), admin tokens and admin accounts, below /api/admin. */
export function accountRoutes(deps: AccountRouteDeps): void {
  const { route, developers, admins, tokens, usage, users, record } = deps;
  const ok = <S extends z.ZodType>(description: string, schema: S) => ({ 200: { description, schema } });

  // Developer accounts: own apps, scope unionid.
  let tags = ['developers'];
  route(
    {
      method: 'post',
      path: '/developers',
      tags,
      summary: 'Create a developer account',
      body: developerCreateSchema,
      responses: { 201: { description: 'The account', schema: out.developerSchema } },
    },
    async (req, res) => {
      const created = await developers.create(req.body);
      await record('developer.created', actorOf(res), { detail: { developerId: created.id, name: created.name } });
      res.status(201).json(created);
    },
  );
  route(
    {
      method: 'get',
      path: '/developers',
      tags,
      summary: 'List developer accounts',
      responses: ok('Accounts', z.object({ developers: z.array(out.developerSchema) })),
    },
    async (_req, res) => {
      res.json({ developers: await developers.list() });
    },
  );
  route(
    {
      method: 'get',
      path: '/developers/:developerId',
      tags,
      summary: 'Show a developer account',
      params: developerParam,
      responses: ok('The account', out.developerSchema),
    },
    async (req, res) => {
      res.json(await developers.get(param('developerId', req.params)));
    },
  );
  route(
    {
      method: 'patch',
      path: '/developers/:developerId',
      tags,
      summary: 'Rename a developer account',
      params: developerParam,
      body: developerUpdateSchema,
      responses: ok('The account', out.developerSchema),
    },
    async (req, res) => {
      const id = param('developerId', req.params);
      const updated = await developers.update(id, req.body);
      await record('developer.updated', actorOf(res), { detail: { developerId: id, name: updated.name } });
      res.json(updated);
    },
  );
  route(
    {
      method: 'delete',
      path: '/developers/:developerId',
      tags,
      summary: 'Delete a developer account that owns no apps',
      params: developerParam,
      responses: ok('Deleted', out.deletedDeveloperSchema),
    },
    async (req, res) => {
      const id = param('developerId', req.params);
      const deleted = await developers.delete(id);
      await record('developer.deleted', actorOf(res), { detail: { developerId: id } });
      res.json(deleted);
    },
  );

  // People: search, their authorizations and activity, revocation.
  tags = ['users'];
  route(
    {
      method: 'get',
      path: '/users',
      tags,
      summary: 'Search people (phone-app users), newest first',
      query: userSearchQuery,
      responses: ok('People', out.userListSchema),
    },
    async (req, res) => {
      res.json({ users: await users.search(req.query) });
    },
  );
  route(
    {
      method: 'get',
      path: '/users/:userId',
      tags,
      summary: 'Show a person and the apps they authorized',
      params: userParam,
      responses: ok('The person', out.userDetailSchema),
    },
    async (req, res) => {
      res.json(await users.get(param('userId', req.params)));
    },
  );
  route(
    {
      method: 'get',
      path: '/users/:userId/authorizations',
      tags,
      summary: "A person's authorizations",
      params: userParam,
      responses: ok('Authorizations', out.userAuthorizationsSchema),
    },
    async (req, res) => {
      res.json({ authorizations: (await users.get(param('userId', req.params))).authorizations });
    },
  );
  route(
    {
      method: 'get',
      path: '/users/:userId/audit',
      tags,
      summary: "A person's audit trail, newest first",
      params: userParam,
      query: auditQuery,
      responses: ok('Events', out.auditTrailSchema),
    },
    async (req, res) => {
      const user = await users.get(param('userId', req.params));
      res.json(await usage.auditForUser(user.id, req.query));
    },
  );
  route(
    {
      method: 'delete',
      path: '/users/:userId/authorizations/:appId',
      tags,
      summary: "End a person's authorization for an app (its tokens stop at once)",
      params: userAppParams,
      responses: ok('Revoked', out.revokedSchema),
    },
    async (req, res) => {
      const { userId, appId } = parseWith(userAppParams, req.params);
      const revoked = await users.revoke(userId, appId);
      await record('authorization.revoked', actorOf(res), { userId: revoked.userId, appId, ip: req.ip ?? null, detail: { by: 'admin' } });
      res.json(revoked);
    },
  );

  // Admin tokens (bearer auth for this API over HTTP).
  tags = ['tokens'];
  route(
    {
      method: 'post',
      path: '/tokens',
      tags,
      summary: 'Create an admin token, acting for the caller',
      body: tokenCreateSchema,
      responses: { 201: { description: 'The token (shown this once)', schema: out.createdTokenSchema } },
    },
    async (req, res) => {
      const created = await tokens.create(req.body, actorOf(res), adminIdOf(res));
      await record('admin.token_created', actorOf(res), { detail: { tokenId: created.id, name: created.name } });
      res.status(201).json(created);
    },
  );
  route(
    {
      method: 'get',
      path: '/tokens',
      tags,
      summary: 'List admin tokens (never the tokens themselves)',
      responses: ok('Tokens', z.object({ tokens: z.array(out.tokenSchema) })),
    },
    async (_req, res) => {
      res.json({ tokens: await tokens.list() });
    },
  );
  route(
    {
      method: 'delete',
      path: '/tokens/:tokenId',
      tags,
      summary: 'Revoke an admin token',
      params: tokenParam,
      responses: ok('The revoked token', out.tokenSchema),
    },
    async (req, res) => {
      const revoked = await tokens.revoke(param('tokenId', req.params));
      await record('admin.token_revoked', actorOf(res), { detail: { tokenId: revoked.id, name: revoked.name } });
      res.json(revoked);
    },
  );

  // Admin accounts (console sign-in).
  tags = ['admins'];
  route(
    {
      method: 'post',
      path: '/admins',
      tags,
      summary: 'Create a console admin',
      body: adminCreateSchema,
      responses: { 201: { description: 'The admin', schema: out.adminSchema } },
    },
    async (req, res) => {
      const created = await admins.create(req.body);
      await record('admin.created', actorOf(res), { detail: { admin: created.username } });
      res.status(201).json(created);
    },
  );
  route(
    { method: 'get', path: '/admins', tags, summary: 'List console admins', responses: ok('Admins', z.object({ admins: z.array(out.adminSchema) })) },
    async (_req, res) => {
      res.json({ admins: await admins.list() });
    },
  );
  route(
    { method: 'get', path: '/admins/:admin', tags, summary: 'Show a console admin', params: adminParam, responses: ok('The admin', out.adminSchema) },
    async (req, res) => {
      res.json(await admins.get(param('admin', req.params)));
    },
  );
  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    route(
      {
        method: 'post',
        path: `/admins/:admin/${action}`,
        tags,
        summary: disabled ? 'Disable an admin (their sessions and tokens stop)' : 'Enable an admin',
        params: adminParam,
        responses: ok('The admin', out.adminSchema),
      },
      async (req, res) => {
        const admin = await admins.setDisabled(param('admin', req.params), disabled);
        await record(disabled ? 'admin.disabled' : 'admin.enabled', actorOf(res), { detail: { admin: admin.username } });
        res.json(admin);
      },
    );
  }
  route(
    {
      method: 'delete',
      path: '/admins/:admin',
      tags,
      summary: 'Delete an admin (never the last active one)',
      params: adminParam,
      responses: ok('Deleted', out.deletedAdminSchema),
    },
    async (req, res) => {
      const admin = await admins.remove(param('admin', req.params));
      await record('admin.deleted', actorOf(res), { detail: { admin: admin.username } });
      res.json({ ...admin, deleted: true });
    },
  );
  route(
    {
      method: 'post',
      path: '/admins/:admin/password',
      tags,
      summary: "Set an admin's password (their other sessions end)",
      params: adminParam,
      body: adminPasswordBody,
      responses: ok('The admin', out.adminSchema),
    },
    async (req, res) => {
      const admin = await admins.setPassword(param('admin', req.params), req.body);
      await record('admin.password_changed', actorOf(res), { detail: { admin: admin.username } });
      res.json(admin);
    },
  );
}
