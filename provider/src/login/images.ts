import QRCode from 'qrcode';
import type { EphemeralStore } from '../storage/ephemeral.js';

/** How long a drawn QR is shared through the store: a QR's life (QR_TTL, 120 s by default) and then some. */
const SHARED_MS = 5 * 60_000;
const svgKey = (qrId: string) => `qr-svg:${qrId}`;

/**
 * What a QR code encodes (`<issuer>/q/<qrId>`, a page the phone app or any camera opens) and
 * its SVG. The page and its first /qr fetch draw the same code, often on different workers or
 * instances: the first to need it draws it (~0.2 ms, most of it qrcode's mask choice) and shares
 * it through the store; each process also keeps the last few.
 */
export type QrImages = ReturnType<typeof createQrImages>;

export function createQrImages(issuer: string, store: EphemeralStore, opts: { cacheSize?: number } = {}) {
  const cacheSize = opts.cacheSize ?? 1000;
  const payloadOf = (qrId: string) => `${issuer}/q/${qrId}`;
  const cache = new Map<string, Promise<string>>();

  async function draw(qrId: string): Promise<string> {
    const shared = await store.get(svgKey(qrId)).catch(() => null);
    if (shared) return shared;
    // One byte-mode segment: qrcode would otherwise search the cheapest mix of modes for the
    // URL (a shortest-path search) to save a few modules at best.
    const text = await QRCode.toString([{ data: Buffer.from(payloadOf(qrId)), mode: 'byte' }], { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
    // qrcode concatenates the path from thousands of small pieces; V8 keeps such a string as a
    // tree of them (~25 KB instead of ~2 KB). Copy it flat before it is kept.
    const svg = Buffer.from(text).toString();
    await store.set(svgKey(qrId), svg, SHARED_MS).catch(() => undefined); // best effort: drawing again is fine
    return svg;
  }

  return {
    payloadOf,
    svgOf(qrId: string): Promise<string> {
      let svg = cache.get(qrId);
      if (!svg) {
        svg = draw(qrId);
        cache.set(qrId, svg);
        svg.catch(() => cache.delete(qrId));
        if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
      }
      return svg;
    },
  };
}
