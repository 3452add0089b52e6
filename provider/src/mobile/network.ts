import net from 'node:net';

/**
 * RFC 10027's proximity signal, coarse: do the browser and the phone share a network?
 * IPv4: same /24; IPv6: same /64. Loopback counts as one network. A mismatch is a warning for
 * the person (phone on mobile data, PC on Wi-Fi is normal), never a refusal.
 */
export function sameNetwork(a: string, b: string): boolean {
  const x = normalise(a);
  const y = normalise(b);
  if (!x || !y) return false;
  if (isLoopback(x) && isLoopback(y)) return true;
  if (net.isIPv4(x) && net.isIPv4(y)) return x.split('.').slice(0, 3).join('.') === y.split('.').slice(0, 3).join('.');
  if (net.isIPv6(x) && net.isIPv6(y)) return expand(x).slice(0, 4).join(':') === expand(y).slice(0, 4).join(':');
  return false;
}

function normalise(ip: string): string | null {
  const v = ip.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  return net.isIP(v) ? v : null;
}

const isLoopback = (ip: string) => ip === '::1' || ip.startsWith('127.');

function expand(ip: string): string[] {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = ip.includes('::') ? Array<string>(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((p) => p.toLowerCase().replace(/^0+(?=.)/, ''));
}
