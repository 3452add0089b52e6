import type { RequestHandler } from 'express';
import { z } from 'zod';
import { parseWith } from '../../http/guard.js';
import type { Operation } from '../../http/openapi.js';
import { actorOf, type AdminAudit } from '../audit.js';
import { identityLinkSchema, userCreateSchema, type AdminUsers } from '../people.js';
import * as out from './schemas.js';

const userParam = z.object({ userId: z.string().min(1).max(100).describe('User id or username') });
const linkParam = userParam.extend({ linkId: z.string().min(1).max(64).describe('The link id (GET …/identities)') });
const deviceParam = userParam.extend({ deviceId: z.string().min(1).max(64).describe('The device id (GET /users/{userId}: devices)') });
const userOf = (params: unknown) => parseWith(userParam, params).userId;
const ok = <S extends z.ZodType>(description: string, schema: S) => ({ 200: { description, schema } });

/**
 * People management below /api/admin (issue 14): provision, disable/enable, delete, and their
 * linked identities. Searching, showing and revoking authorizations are in routes-accounts.ts.
 * `:userId` is an id or a username.
 */
export function peopleRoutes(deps: { route: (op: Operation, ...handlers: RequestHandler[]) => void; users: AdminUsers; record: AdminAudit }): void {
  const { route, users, record } = deps;
  const tags = ['users'];

  route(
    {
      method: 'post',
      path: '/users',
      tags,
      summary: 'Provision a person (no password unless given: they sign in with a linked identity or a passkey)',
      body: userCreateSchema,
      responses: { 201: { description: 'The person', schema: out.userDetailSchema } },
    },
    async (req, res) => {
      const created = await users.create(req.body);
      await record('user.created', actorOf(res), { userId: created.id, detail: { username: created.username } });
      res.status(201).json(created);
    },
  );
  route(
    {
      method: 'delete',
      path: '/users/:userId',
      tags,
      summary: 'Delete a person: sessions and tokens end first, then the person with their passkeys, links and authorizations',
      params: userParam,
      responses: ok('Deleted', out.deletedUserSchema),
    },
    async (req, res) => {
      const deleted = await users.remove(userOf(req.params));
      await record('user.deleted', actorOf(res), { userId: deleted.id, detail: { username: deleted.username } });
      res.json(deleted);
    },
  );
  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    const summary = disabled
      ? "Disable a person: every device session ends at once on every instance, sites' tokens for them stop, no sign-in works"
      : 'Enable a disabled person (they sign in anew on each phone)';
    route(
      { method: 'post', path: `/users/:userId/${action}`, tags, summary, params: userParam, responses: ok('The person', out.userStatusSchema) },
      async (req, res) => {
        const user = await users.setDisabled(userOf(req.params), disabled);
        await record(disabled ? 'user.disabled' : 'user.enabled', actorOf(res), {
          userId: user.id,
          detail: { username: user.username, devicesSignedOut: user.devicesSignedOut },
        });
        res.json(user);
      },
    );
  }

  route(
    {
      method: 'get',
      path: '/users/:userId/identities',
      tags,
      summary: "A person's linked identities",
      params: userParam,
      responses: ok('Identities', out.identityListSchema),
    },
    async (req, res) => {
      res.json({ identities: (await users.get(userOf(req.params))).signInMethods.identities });
    },
  );
  route(
    {
      method: 'post',
      path: '/users/:userId/identities',
      tags,
      summary: "Link a person to their identity at a source: that source's sign-in for `subject` signs in as them",
      params: userParam,
      body: identityLinkSchema,
      responses: { 201: { description: 'Linked', schema: out.linkedSchema } },
    },
    async (req, res) => {
      const linked = await users.link(userOf(req.params), req.body);
      await record('identity.linked', actorOf(res), {
        userId: linked.userId,
        detail: { sourceId: linked.identity.sourceId, subject: linked.identity.subject },
      });
      res.status(201).json(linked);
    },
  );
  route(
    {
      method: 'delete',
      path: '/users/:userId/devices/:deviceId',
      tags,
      summary: "Sign out one of a person's devices (a phone they lost): its token stops working at once, on every instance",
      params: deviceParam,
      responses: ok('Signed out', out.signedOutDeviceSchema),
    },
    async (req, res) => {
      const { userId, deviceId } = parseWith(deviceParam, req.params);
      const signedOut = await users.signOutDevice(userId, deviceId);
      await record('device.logout', actorOf(res), { userId: signedOut.userId, detail: { deviceId, by: 'admin' } });
      res.json(signedOut);
    },
  );
  route(
    {
      method: 'delete',
      path: '/users/:userId/identities/:linkId',
      tags,
      summary: 'Remove a linked identity from a person',
      params: linkParam,
      responses: ok('Unlinked', out.unlinkedSchema),
    },
    async (req, res) => {
      const { userId, linkId } = parseWith(linkParam, req.params);
      const unlinked = await users.unlink(userId, linkId);
      await record('identity.unlinked', actorOf(res), { userId: unlinked.userId, detail: { linkId } });
      res.json(unlinked);
    },
  );
}
