import type { AuditEntry, AuditType } from '../accounts/audit.js';

/**
 * What the login core needs from the rest of the system, and nothing more. oidc/grant-issuer.ts
 * implements `GrantIssuer` on oidc-provider's models: the only login code that touches it.
 */

/** What the person approved on the phone: who, for which app, which scopes (and OIDC claims). */
export interface Approval {
  accountId: string;
  clientId: string;
  scopes: string[];
  claims?: string[];
}

export interface GrantIssuer {
  /** Durably records the approval as a grant tokens can be issued under; its id. */
  issue(approval: Approval): Promise<string>;
  /** Removes a grant and everything issued under it (a completion that lost its race). */
  revoke(grantId: string): Promise<void>;
}

/** Whether the person who confirmed may still sign in (accounts/users.ts): read at completion, not cached. */
export interface People {
  canSignIn(userId: string): Promise<boolean>;
}

/** "Apps I approved" on the phone (accounts/authorizations.ts). */
export interface ApprovalLog {
  recordApproval(userId: string, appId: string, scopes: string[]): Promise<void>;
}

/** The audit trail (accounts/audit.ts). */
export interface LoginAudit {
  record(type: AuditType, entry: AuditEntry): Promise<void>;
}

/** The browser or phone a request came from, for the audit trail. */
export interface Who {
  ip: string | null;
  userAgent: string | null;
}
