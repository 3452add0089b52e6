import type { Logger } from '../log.js';
import type { PrismaClient } from '../storage/generated/client.ts';

export type AuditType =
  | 'qr.scanned'
  | 'qr.confirmed'
  | 'qr.denied'
  | 'login.completed'
  | 'login.denied'
  | 'authorization.revoked'
  | 'device.login'
  | 'device.logout'
  | 'app.created'
  | 'app.secret_rotated'
  | 'app.updated'
  | 'app.status_changed'
  | 'app.deleted'
  | 'developer.created'
  | 'developer.updated'
  | 'developer.deleted'
  | 'admin.created'
  | 'admin.disabled'
  | 'admin.enabled'
  | 'admin.password_changed'
  | 'admin.signed_in'
  | 'admin.sign_in_failed'
  | 'admin.signed_out'
  | 'admin.token_created'
  | 'admin.token_revoked';

export interface AuditEntry {
  userId?: string | null;
  appId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown>;
}

export type Audit = ReturnType<typeof createAudit>;

/** The append-only trail behind "my recent logins" and the admin views. */
export function createAudit(prisma: PrismaClient, log: Logger) {
  return {
    async record(type: AuditType, entry: AuditEntry): Promise<void> {
      try {
        await prisma.auditEvent.create({
          data: {
            type,
            userId: entry.userId ?? null,
            appId: entry.appId ?? null,
            ip: entry.ip ?? null,
            userAgent: entry.userAgent?.slice(0, 512) ?? null,
            detail: (entry.detail ?? undefined) as object | undefined,
          },
        });
      } catch (err) {
        // The trail must not turn a login the person approved into a failure; it is logged.
        log.error({ err, type }, 'audit write failed');
      }
    },
    async forUser(userId: string, limit = 50) {
      const rows = await prisma.auditEvent.findMany({ where: { userId }, orderBy: { at: 'desc' }, take: limit });
      // One lookup for the names of the apps involved (no relation: events outlive deleted apps).
      const appIds = [...new Set(rows.map((r) => r.appId).filter((id): id is string => !!id))];
      const apps = appIds.length ? await prisma.app.findMany({ where: { appId: { in: appIds } }, select: { appId: true, name: true } }) : [];
      const names = new Map(apps.map((a) => [a.appId, a.name]));
      return rows.map((r) => ({
        id: r.id.toString(),
        at: r.at.toISOString(),
        type: r.type,
        appId: r.appId,
        appName: (r.appId && names.get(r.appId)) ?? null,
        ip: r.ip,
        userAgent: r.userAgent,
        detail: r.detail,
      }));
    },
  };
}
