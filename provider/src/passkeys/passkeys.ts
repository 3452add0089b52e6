import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { PublicUser } from '../accounts/users.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { CEREMONY_MS, createChallenges, type ChallengePurpose } from './challenges.js';
import { passkeyError } from './error-codes.js';

export interface PasskeySettings {
  /** The relying party ID: PUBLIC_URL's host or a parent domain (config.ts). */
  rpId: string;
  /** Origins ceremonies may come from: the web app's, and native apps' (android:apk-key-hash:…). */
  origins: string[];
  rpName?: string;
}

/**
 * EdDSA, ES256, RS256 (COSE ids): what passkey providers make. Named, so the library does not
 * probe the runtime for ML-DSA (Node marks that Web Crypto support experimental and warns).
 */
const ALGORITHM_IDS = [-8, -7, -257];

/**
 * Adding or removing a passkey needs a device session signed in this recently (with a
 * password, a passkey, the organisation's SSO or assertion): a passkey proves the person, so a
 * device token alone (stolen, or a phone left unlocked) must not add the holder's own passkey
 * and then pass every confirm that requires one, nor remove the person's to add one as the first.
 */
const RECENT_SIGN_IN_MS = 10 * 60_000;
function mustBeRecent(signedInAt: number) {
  if (!(Date.now() - signedInAt <= RECENT_SIGN_IN_MS)) throw passkeyError('recent_sign_in_required');
}

/** Loaded on first use: it costs ~0.2 s of start-up, which the admin CLI (it lists passkeys, never verifies) need not pay. */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => (library ??= import('@simplewebauthn/server'));

type Row = {
  id: string;
  userId: string;
  publicKey: Uint8Array;
  counter: bigint;
  transports: string[];
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backedUp: boolean;
};
const view = (r: Row) => ({
  id: r.id,
  name: r.name,
  createdAt: r.createdAt.toISOString(),
  lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  backedUp: r.backedUp,
});
export type PasskeyView = ReturnType<typeof view>;

/** The challenge the browser signed, read from the response's client data (null when unreadable). */
function challengeOf(response: { response: { clientDataJSON: string } }): string | null {
  try {
    const data = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof data.challenge === 'string' ? data.challenge : null;
  } catch {
    return null;
  }
}

export type Passkeys = ReturnType<typeof createPasskeys>;

/**
 * Passkeys (WebAuthn, @simplewebauthn/server): adding one to a signed-in account, signing in
 * with one, and proving the person at confirm time. Every ceremony requires user verification
 * (biometric or screen lock), its challenge is single-use and accepted only for what it was
 * issued for (this account, this QR), and a response must come from one of `origins` for
 * `rpId`. The counter is kept for clone detection. Only a recent sign-in adds or removes one.
 */
export function createPasskeys(deps: { prisma: PrismaClient; store: EphemeralStore; settings: PasskeySettings }) {
  const { prisma } = deps;
  const { rpId, origins } = deps.settings;
  const challenges = createChallenges(deps.store);

  /** The recorded purpose of the response's challenge, if it is the one expected. */
  async function expected(response: { response: { clientDataJSON: string } }, matches: (p: ChallengePurpose) => boolean) {
    const challenge = challengeOf(response);
    const purpose = challenge ? await challenges.peek(challenge) : null;
    if (!challenge || !purpose || !matches(purpose)) throw passkeyError('passkey_challenge_invalid');
    return challenge;
  }

  /** Verifies an assertion by this stored passkey; spends the challenge; records the counter. */
  async function verifyAssertion(row: Row, response: AuthenticationResponseJSON, challenge: string) {
    const { verifyAuthenticationResponse } = await webauthn();
    let result;
    try {
      result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: origins,
        expectedRPID: rpId,
        credential: { id: row.id, publicKey: new Uint8Array(row.publicKey), counter: Number(row.counter), transports: row.transports },
        requireUserVerification: true,
      });
    } catch {
      // A replay racing the response's first use fails on the counter that use just stored: it is a replay.
      throw (await challenges.peek(challenge)) ? passkeyError('passkey_invalid') : passkeyError('passkey_challenge_invalid');
    }
    if (!result.verified || !result.authenticationInfo.userVerified) throw passkeyError('passkey_invalid');
    // Last, after every check: of concurrent uses of one response, one gets here first.
    if (!(await challenges.consume(challenge))) throw passkeyError('passkey_challenge_invalid');
    // Compare-and-set on the counter this check read: of two uses with one counter (a clone and its
    // original, presented at once) only one passes, and the stored counter never goes back.
    const { count } = await prisma.passkey.updateMany({
      where: { id: row.id, counter: row.counter },
      data: { counter: BigInt(result.authenticationInfo.newCounter), lastUsedAt: new Date() },
    });
    if (!count) throw passkeyError('passkey_invalid');
  }

  const mine = (userId: string) => prisma.passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
  const refs = (rows: { id: string; transports: string[] }[]) => rows.map((r) => ({ id: r.id, transports: r.transports }));

  return {
    async list(userId: string): Promise<PasskeyView[]> {
      return (await mine(userId)).map(view);
    },
    count: (userId: string) => prisma.passkey.count({ where: { userId } }),

    async registrationOptions(user: PublicUser, signedInAt: number) {
      mustBeRecent(signedInAt);
      const { generateRegistrationOptions } = await webauthn();
      const options = await generateRegistrationOptions({
        rpName: deps.settings.rpName ?? 'Saoma',
        rpID: rpId,
        userID: new TextEncoder().encode(user.id),
        userName: user.username,
        userDisplayName: user.nickname,
        attestationType: 'none',
        excludeCredentials: refs(await mine(user.id)),
        // A discoverable credential with user verification: it signs in without a username and
        // proves the person (biometric or screen lock), not only the device.
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        supportedAlgorithmIDs: ALGORITHM_IDS,
        timeout: CEREMONY_MS,
      });
      await challenges.issue(options.challenge, { purpose: 'register', userId: user.id });
      return options;
    },

    async register(userId: string, signedInAt: number, response: RegistrationResponseJSON, name: string | undefined): Promise<PasskeyView> {
      mustBeRecent(signedInAt);
      const challenge = await expected(response, (p) => p.purpose === 'register' && p.userId === userId);
      const { verifyRegistrationResponse } = await webauthn();
      let verification;
      try {
        verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: origins,
          expectedRPID: rpId,
          requireUserVerification: true,
          supportedAlgorithmIDs: ALGORITHM_IDS,
        });
      } catch {
        throw passkeyError('passkey_invalid');
      }
      if (!verification.verified) throw passkeyError('passkey_invalid');
      if (!(await challenges.consume(challenge))) throw passkeyError('passkey_challenge_invalid');
      const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
      try {
        const row = await prisma.passkey.create({
          data: {
            id: credential.id,
            userId,
            publicKey: credential.publicKey,
            counter: BigInt(credential.counter),
            transports: credential.transports ?? [],
            deviceType: credentialDeviceType,
            backedUp: credentialBackedUp,
            name: name || (credentialDeviceType === 'multiDevice' ? 'Synced passkey' : 'Passkey on this device'),
          },
        });
        return view(row);
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw passkeyError('passkey_exists');
        throw err;
      }
    },

    /** Never the person's last way in: someone without a password or a linked identity keeps one passkey. */
    async remove(userId: string, signedInAt: number, id: string): Promise<void> {
      mustBeRecent(signedInAt);
      const anotherWayIn = { OR: [{ passwordHash: { not: null } }, { identities: { some: {} } }, { passkeys: { some: { id: { not: id } } } }] };
      const { count } = await prisma.passkey.deleteMany({ where: { id, userId, user: anotherWayIn } });
      if (count) return;
      if (await prisma.passkey.count({ where: { id, userId } })) throw passkeyError('last_sign_in_method');
      throw passkeyError('passkey_not_found');
    },

    /** Options for signing in with any passkey of this site (discoverable: no username asked). */
    async loginOptions() {
      const { generateAuthenticationOptions } = await webauthn();
      const options = await generateAuthenticationOptions({ rpID: rpId, userVerification: 'required', timeout: CEREMONY_MS });
      await challenges.issue(options.challenge, { purpose: 'login' });
      return options;
    },

    /** The person a sign-in assertion proves. */
    async login(response: AuthenticationResponseJSON): Promise<string> {
      const challenge = await expected(response, (p) => p.purpose === 'login');
      const row = await prisma.passkey.findUnique({ where: { id: response.id } });
      if (!row) throw passkeyError('passkey_unknown');
      await verifyAssertion(row, response, challenge);
      return row.userId;
    },

    /** Options for proving the person at confirm time: this account's passkeys, for this QR only. */
    async confirmOptions(userId: string, qrId: string) {
      const rows = await mine(userId);
      if (!rows.length) throw passkeyError('no_passkey');
      const { generateAuthenticationOptions } = await webauthn();
      const options = await generateAuthenticationOptions({ rpID: rpId, allowCredentials: refs(rows), userVerification: 'required', timeout: CEREMONY_MS });
      await challenges.issue(options.challenge, { purpose: 'confirm', userId, qrId });
      return options;
    },

    /** Throws unless `response` is a fresh, user-verified assertion by this person's passkey for this QR. */
    async verifyConfirm(userId: string, qrId: string, response: AuthenticationResponseJSON): Promise<void> {
      const challenge = await expected(response, (p) => p.purpose === 'confirm' && p.userId === userId && p.qrId === qrId);
      const row = await prisma.passkey.findUnique({ where: { id: response.id } });
      if (!row || row.userId !== userId) throw passkeyError('passkey_unknown');
      await verifyAssertion(row, response, challenge);
    },
  };
}
