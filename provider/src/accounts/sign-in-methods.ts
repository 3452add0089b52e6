import type { LinkView } from '../identity/links.js';
import type { PasskeyView } from '../passkeys/passkeys.js';
import type { PrismaClient } from '../storage/generated/client.ts';

export interface SignInMethodsOf {
  password: boolean;
  passkeys: PasskeyView[];
  identities: LinkView[];
}

export type SignInMethods = ReturnType<typeof createSignInMethods>;

/**
 * The ways an account can sign in: its password (optional since people can come from an
 * identity source), its passkeys, and the organisation identities linked to it. The phone shows
 * them (GET /api/mobile/me) and admins see them (admin/people.ts).
 */
export function createSignInMethods(deps: {
  prisma: PrismaClient;
  passkeys: { list(userId: string): Promise<PasskeyView[]> };
  identities: { ofUser(userId: string): Promise<LinkView[]> };
}) {
  return {
    async of(userId: string): Promise<SignInMethodsOf> {
      const [row, passkeys, identities] = await Promise.all([
        deps.prisma.user.findUnique({ where: { id: userId }, select: { passwordHash: true } }),
        deps.passkeys.list(userId),
        deps.identities.ofUser(userId),
      ]);
      return { password: !!row?.passwordHash, passkeys, identities };
    },
  };
}
