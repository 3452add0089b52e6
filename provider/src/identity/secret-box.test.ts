import { describe, expect, it } from 'vitest';
import { createSecretBox } from './secret-box.js';

describe('identity source secrets sealed at rest', () => {
  it('opens what it sealed, never stores the plain text, and refuses a tampered or foreign box', () => {
    const box = createSecretBox('identifier-secret-of-this-deployment');
    const sealed = box.seal('client-secret-42');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('client-secret-42');
    expect(box.seal('client-secret-42')).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed)).toBe('client-secret-42');
    const [v, iv, body] = sealed.split('.');
    const flipped = `${v}.${iv}.${body.slice(0, -2)}${body.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(() => box.open(flipped)).toThrow();
    expect(() => createSecretBox('another-deployment-secret').open(sealed)).toThrow();
  });

  it('says what is missing when a CLI without the keys needs it, only when it does', () => {
    const box = createSecretBox(undefined);
    expect(() => box.seal('x')).toThrow(/IDENTIFIER_SECRET/);
  });
});
