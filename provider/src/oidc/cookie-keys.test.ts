import Keygrip from 'keygrip';
import { describe, expect, it } from 'vitest';
import { cookieSigner } from './cookie-keys.js';

describe('cookie signer', () => {
  const keys = ['first-key-0123456789', 'older-key-abcdefghij'];
  const ours = cookieSigner(keys);
  const theirs = new Keygrip(keys);

  it('signs exactly as keygrip does, so existing cookies keep verifying', () => {
    for (const data of ['_interaction=abc', 'x', 'ü-unicode=1', '']) expect(ours.sign(data)).toBe(theirs.sign(data));
  });

  it('finds the key that signed, and refuses a wrong or truncated digest', () => {
    const older = new Keygrip([keys[1]]).sign('c=1');
    expect(ours.index('c=1', older)).toBe(1);
    expect(ours.index('c=1', ours.sign('c=1'))).toBe(0);
    expect(ours.verify('c=2', ours.sign('c=1'))).toBe(false);
    expect(ours.verify('c=1', ours.sign('c=1').slice(0, -1))).toBe(false);
    expect(ours.verify('c=1', '')).toBe(false);
  });

  it('follows a key list that changes (rotation): signs with the new first key, still verifies the old', () => {
    let list = ['old-key-0123456789abc'];
    const signer = cookieSigner(() => list);
    const before = signer.sign('c=1');
    list = ['new-key-0123456789abc', 'old-key-0123456789abc'];
    expect(signer.sign('c=1')).toBe(new Keygrip(['new-key-0123456789abc']).sign('c=1'));
    expect(signer.index('c=1', before)).toBe(1);
    list = ['new-key-0123456789abc'];
    expect(signer.verify('c=1', before)).toBe(false);
  });
});
