import type { Response } from 'express';
import type { Audit, AuditEntry, AuditType } from '../accounts/audit.js';

/** What admins do, in the audit trail. Every entry names its actor in `detail.actor`. */
type AdminAuditType = Extract<
  AuditType,
  | `app.${string}`
  | `developer.${string}`
  | `admin.${string}`
  | `user.${string}`
  | `identity.${string}`
  | `identity_source.${string}`
  | 'authorization.revoked'
  | 'device.logout'
  | 'keys.rotated'
  | 'keys.removed'
>;

/**
 * Who acted: "admin:<username>" (console), "token:<name>" (API over HTTP) or "local" (the
 * admin socket / the CLI on the server, authorised by filesystem permissions).
 */
export type Actor = string;

/** Who is calling, as set by whoever mounted the admin API (bearer auth); the admin socket is "local". */
export const actorOf = (res: Response): Actor => (res.locals.actor as Actor | undefined) ?? 'local';

/** The admin the caller acts for (console: the signed-in admin; a token: its owner); null on the admin socket. */
export const adminIdOf = (res: Response): string | null => (res.locals.adminId as string | null | undefined) ?? null;

export type AdminAudit = (type: AdminAuditType, actor: Actor, entry?: AuditEntry) => Promise<void>;

export function adminAudit(audit: Audit): AdminAudit {
  return (type, actor, entry = {}) => audit.record(type, { ...entry, detail: { ...entry.detail, actor } });
}
