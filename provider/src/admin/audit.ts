import type { Response } from 'express';
import type { Audit, AuditEntry, AuditType } from '../accounts/audit.js';

/** What admins do, in the audit trail. Every entry names its actor in `detail.actor`. */
export type AdminAuditType =
  | 'app.created'
  | 'app.updated'
  | 'app.secret_rotated'
  | 'app.status_changed'
  | 'app.deleted'
  | 'developer.created'
  | 'developer.updated'
  | 'developer.deleted'
  | 'authorization.revoked'
  | 'admin.created'
  | 'admin.disabled'
  | 'admin.enabled'
  | 'admin.password_changed'
  | 'admin.signed_in'
  | 'admin.sign_in_failed'
  | 'admin.signed_out'
  | 'admin.token_created'
  | 'admin.token_revoked';

/**
 * Who acted: "admin:<username>" (console), "token:<name>" (API over HTTP) or "local" (the
 * admin socket / the CLI on the server, authorised by filesystem permissions).
 */
export type Actor = string;

/** Who is calling, as set by whoever mounted the admin API (bearer auth); the admin socket is "local". */
export const actorOf = (res: Response): Actor => (res.locals.actor as Actor | undefined) ?? 'local';

export type AdminAudit = (type: AdminAuditType, actor: Actor, entry?: AuditEntry) => Promise<void>;

export function adminAudit(audit: Audit): AdminAudit {
  // TODO(issue 5 wiring): once accounts/audit.ts lists these types in AuditType, drop the cast.
  return (type, actor, entry = {}) => audit.record(type as AuditType, { ...entry, detail: { ...entry.detail, actor } });
}
