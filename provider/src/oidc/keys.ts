import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ensurePrivateDataDir } from '../storage/data-dir.js';

/**
 * Key material every instance must share: ID-token signing keys, cookie keys, and the secret
 * that derives openid/unionid. From the environment when set (N instances: set all three);
 * otherwise generated once into DATA_DIR/keys.json (mode 0600) so a single instance, including
 * the zero-setup default, keeps its keys, cookies and openids across restarts.
 */
export interface KeyMaterial {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  identifierSecret: string;
}

export async function generateKeyMaterial(): Promise<KeyMaterial> {
  // RS256 is what new apps sign with (the OIDC default for clients that don't say); ES256 is
  // cheaper to sign and what apps from before per-app algorithms keep.
  const es = await generateKeyPair('ES256', { extractable: true });
  const rs = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const stamp = Date.now().toString(36);
  return {
    jwks: {
      keys: [
        { ...(await exportJWK(es.privateKey)), kid: `es-${stamp}`, alg: 'ES256', use: 'sig' },
        { ...(await exportJWK(rs.privateKey)), kid: `rs-${stamp}`, alg: 'RS256', use: 'sig' },
      ],
    },
    cookieKeys: [randomBytes(32).toString('base64url')],
    identifierSecret: randomBytes(32).toString('base64url'),
  };
}

/**
 * The ID token signing algorithms an app may choose (id_token_signed_response_alg): every
 * asymmetric one oidc-provider supports. HS256/384/512 are left out: they would be keyed with
 * the client secret, which Saoma stores only as a hash. RS256 first: the OIDC default.
 */
export const ID_TOKEN_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'Ed25519', 'EdDSA'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

const ALGS_OF_KEY: Record<string, readonly IdTokenAlg[]> = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'EC:P-256': ['ES256'],
  'EC:P-384': ['ES384'],
  'EC:P-521': ['ES512'],
  'OKP:Ed25519': ['Ed25519', 'EdDSA'],
};

/**
 * The algorithms this JWKS can sign ID tokens with: a private signing key's `alg`, or every
 * algorithm its type and curve allow when it names none. Discovery lists exactly these.
 */
export function signingAlgorithms(jwks: { keys: JWK[] }): IdTokenAlg[] {
  const algs = new Set<string>();
  for (const key of jwks.keys) {
    if (!key.d || (key.use && key.use !== 'sig')) continue;
    if (key.alg) algs.add(key.alg);
    else for (const alg of ALGS_OF_KEY[key.crv ? `${key.kty}:${key.crv}` : String(key.kty)] ?? []) algs.add(alg);
  }
  return ID_TOKEN_ALGS.filter((alg) => algs.has(alg));
}

/** What new apps get: RS256 (the OIDC default) when there is a key for it. */
export const defaultIdTokenAlg = (algs: readonly IdTokenAlg[]): IdTokenAlg => (algs.includes('RS256') ? 'RS256' : algs[0]);

/**
 * The algorithms the provider signs with, read without generating anything (the admin CLI
 * with no provider running): JWKS, else keys.json, else what a first start generates.
 */
export function configuredSigningAlgorithms(config: Config): IdTokenAlg[] {
  if (config.JWKS) return signingAlgorithms(parseJwks(config.JWKS));
  const file = path.join(config.dataDir, 'keys.json');
  if (fs.existsSync(file)) return signingAlgorithms((JSON.parse(fs.readFileSync(file, 'utf8')) as KeyMaterial).jwks);
  return ['RS256', 'ES256'];
}

/** IDENTIFIER_SECRET without generating anything (the admin CLI): the environment's, else keys.json's, else null. */
export function configuredIdentifierSecret(config: Config): string | null {
  if (config.IDENTIFIER_SECRET) return config.IDENTIFIER_SECRET;
  const file = path.join(config.dataDir, 'keys.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as KeyMaterial).identifierSecret : null;
}

export async function loadKeyMaterial(config: Config, log?: Logger): Promise<KeyMaterial> {
  const file = path.join(config.dataDir, 'keys.json');
  let stored: KeyMaterial | undefined;
  const needFile = !config.JWKS || !config.COOKIE_KEYS || !config.IDENTIFIER_SECRET;
  if (needFile) {
    if (fs.existsSync(file)) {
      stored = JSON.parse(fs.readFileSync(file, 'utf8')) as KeyMaterial;
    } else {
      stored = await generateKeyMaterial();
      ensurePrivateDataDir(config.dataDir, log);
      fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600, flag: 'wx' });
      log?.warn(
        { file },
        'generated signing keys, cookie keys and identifier secret; instances sharing a database must share these (set JWKS, COOKIE_KEYS, IDENTIFIER_SECRET)',
      );
    }
  }
  return {
    jwks: config.JWKS ? parseJwks(config.JWKS) : stored!.jwks,
    cookieKeys: config.COOKIE_KEYS
      ? config.COOKIE_KEYS.split(',')
          .map((k) => k.trim())
          .filter(Boolean)
      : stored!.cookieKeys,
    identifierSecret: config.IDENTIFIER_SECRET ?? stored!.identifierSecret,
  };
}

function parseJwks(text: string): { keys: JWK[] } {
  const parsed = JSON.parse(text) as { keys?: JWK[] };
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error('JWKS must be a JSON Web Key Set with private keys');
  if (!signingAlgorithms({ keys: parsed.keys }).length) throw new Error(`JWKS has no private signing key for any of ${ID_TOKEN_ALGS.join(', ')}`);
  return { keys: parsed.keys };
}
