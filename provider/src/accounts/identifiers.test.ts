import { describe, expect, it } from 'vitest';
import { openid, unionid } from './identifiers.js';
import { hashSecret, newSecret, verifySecret } from './secrets.js';
import { hashPassword, verifyPassword } from './passwords.js';

describe('identifiers', () => {
  const secret = 'x'.repeat(32);
  it('gives one user a different openid per app and a stable one per app', () => {
    expect(openid(secret, 'appA', 'u1')).toBe(openid(secret, 'appA', 'u1'));
    expect(openid(secret, 'appA', 'u1')).not.toBe(openid(secret, 'appB', 'u1'));
    expect(openid(secret, 'appA', 'u1')).not.toBe(openid(secret, 'appA', 'u2'));
  });
  it('gives one user one unionid per developer account, never equal to an openid', () => {
    expect(unionid(secret, 'dev1', 'u1')).toBe(unionid(secret, 'dev1', 'u1'));
    expect(unionid(secret, 'dev1', 'u1')).not.toBe(unionid(secret, 'dev2', 'u1'));
    expect(unionid(secret, 'dev1', 'u1')).not.toBe(openid(secret, 'dev1', 'u1'));
  });
  it('depends on the secret', () => {
    expect(openid(secret, 'appA', 'u1')).not.toBe(openid('y'.repeat(32), 'appA', 'u1'));
  });
});

describe('secrets and passwords are never stored in plain text', () => {
  it('hashes a secret and verifies only the right one', () => {
    const s = newSecret();
    const stored = hashSecret(s);
    expect(stored).not.toContain(s);
    expect(verifySecret(s, stored)).toBe(true);
    expect(verifySecret(`${s}x`, stored)).toBe(false);
    expect(verifySecret('', stored)).toBe(false);
  });
  it('hashes passwords with a per-password salt', async () => {
    const a = await hashPassword('hunter2 hunter2');
    const b = await hashPassword('hunter2 hunter2');
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(await verifyPassword('hunter2 hunter2', a)).toBe(true);
    expect(await verifyPassword('hunter3 hunter3', a)).toBe(false);
  });
});
