import { describe, expect, it } from 'vitest';
import { sameNetwork } from './network.js';
import { qrIdFromPayload } from './routes.js';

describe('sameNetwork (RFC 10027 proximity hint)', () => {
  it('matches IPv4 addresses in one /24 and IPv4-mapped IPv6', () => {
    expect(sameNetwork('192.168.1.20', '192.168.1.99')).toBe(true);
    expect(sameNetwork('::ffff:192.168.1.20', '192.168.1.7')).toBe(true);
    expect(sameNetwork('192.168.1.20', '192.168.2.20')).toBe(false);
  });
  it('matches IPv6 addresses in one /64, written in any form', () => {
    expect(sameNetwork('2001:db8:0:1::10', '2001:0db8:0000:0001:abcd::1')).toBe(true);
    expect(sameNetwork('2001:db8:0:1::10', '2001:db8:0:2::10')).toBe(false);
  });
  it('treats loopback as one network and garbage as different', () => {
    expect(sameNetwork('127.0.0.1', '::1')).toBe(true);
    expect(sameNetwork('not-an-ip', '127.0.0.1')).toBe(false);
    expect(sameNetwork('10.0.0.1', '2001:db8::1')).toBe(false);
  });
});

describe('qrIdFromPayload', () => {
  const id = 'AbCdEfGhIjKlMnOpQrStUv_-';
  it('accepts a QR URL from any host the phone reached, or a bare qrId', () => {
    expect(qrIdFromPayload(`http://localhost:3000/q/${id}`)).toBe(id);
    expect(qrIdFromPayload(`https://192.168.1.5:3443/q/${id}/`)).toBe(id);
    expect(qrIdFromPayload(` ${id} `)).toBe(id);
  });
  it('rejects anything else', () => {
    expect(qrIdFromPayload('https://example.com/')).toBeNull();
    expect(qrIdFromPayload(`https://example.com/x/q/${id}`)).toBeNull();
    expect(qrIdFromPayload('short')).toBeNull();
    expect(qrIdFromPayload('javascript:alert(1)')).toBeNull();
  });
});
