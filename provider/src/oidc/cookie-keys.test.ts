import Keygrip from 'keygrip';
import { describe, expect, it } from 'vitest';
import { cookieSigner } from './cookie-keys.js';

describe('cookie signer', () => {
  const keys = ['first-key-0123456789', 'older-key-abcdefghij'];
  const ours = cookieSigner(keys);
  const theirs = new Keygrip(keys);

  it("signs exactly as keygrip does, so existing cookies keep verifying", () => {
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
});
