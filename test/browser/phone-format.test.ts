/** The phone app's plain-words formatting (provider/public/app/format.js), run in Node. */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a browser ES module without type declarations (no build step by design)
import * as format from '../../provider/public/app/format.js';

const { summariseUserAgent, formatCountdown, looksLikeLoginCode, qrIdFromPath, formatTime } = format as {
  summariseUserAgent: (ua: string) => { browser: string | null; os: string | null };
  formatCountdown: (ms: number) => string;
  looksLikeLoginCode: (text: string) => boolean;
  qrIdFromPath: (path: string) => string | null;
  formatTime: (iso: string, lang: string, withSeconds?: boolean, now?: number) => string;
};

describe('the confirm screen summarises the requesting browser in plain words', () => {
  const cases: Array<[string, string | null, string | null]> = [
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome', 'Linux'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36', 'Chrome', 'Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 'Edge', 'Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari', 'macOS'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari',
      'iOS',
    ],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'Chrome', 'Android'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox', 'Windows'],
    ['Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.47', 'WeChat', 'Android'],
    ['curl/8.5.0', 'curl', null],
    ['', null, null],
  ];
  it.each(cases)('%s → %s on %s', (ua, browser, os) => {
    expect(summariseUserAgent(ua)).toEqual({ browser, os });
  });
});

describe('phone app helpers', () => {
  it('counts down in m:ss and never below zero', () => {
    expect(formatCountdown(120_000)).toBe('2:00');
    expect(formatCountdown(61_001)).toBe('1:02');
    expect(formatCountdown(999)).toBe('0:01');
    expect(formatCountdown(-5_000)).toBe('0:00');
  });

  it('accepts only /q/ links and bare QR ids as login codes', () => {
    expect(looksLikeLoginCode('http://192.168.1.10:3000/q/abcdefghijklmnopqrstuvwx')).toBe(true);
    expect(looksLikeLoginCode('  abcdefghijklmnopqrstuvwx ')).toBe(true);
    expect(looksLikeLoginCode('https://example.com/login')).toBe(false);
    expect(looksLikeLoginCode('https://example.com/q/short')).toBe(false);
    expect(looksLikeLoginCode('javascript:alert(1)')).toBe(false);
  });

  it('finds the qrId in a /q/ path opened by a phone camera', () => {
    expect(qrIdFromPath('/q/abcdefghijklmnopqrstuvwx')).toBe('abcdefghijklmnopqrstuvwx');
    expect(qrIdFromPath('/app')).toBeNull();
    expect(qrIdFromPath('/q/abc/../../x')).toBeNull();
  });

  it('shows only the time for today and the date otherwise', () => {
    const now = Date.parse('2026-03-02T12:00:00Z');
    expect(formatTime('2026-03-02T11:59:00Z', 'en', false, now)).not.toMatch(/2026/);
    expect(formatTime('2026-02-01T11:59:00Z', 'en', false, now)).toMatch(/2026/);
    expect(formatTime('not a date', 'en')).toBe('');
  });
});
