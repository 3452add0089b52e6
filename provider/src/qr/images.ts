import QRCode from 'qrcode';

/**
 * What a QR code encodes (`<issuer>/q/<qrId>`, a page the phone app or any camera opens) and
 * its SVG. The page and its first /qr fetch draw the same code, so the last few SVGs are kept.
 */
export function createQrImages(issuer: string, opts: { cacheSize?: number } = {}) {
  const cacheSize = opts.cacheSize ?? 1000;
  const payloadOf = (qrId: string) => `${issuer}/q/${qrId}`;
  const cache = new Map<string, Promise<string>>();
  return {
    payloadOf,
    svgOf(qrId: string): Promise<string> {
      let svg = cache.get(qrId);
      if (!svg) {
        // One byte-mode segment: qrcode would otherwise search the cheapest mix of modes for the
        // URL (a shortest-path search costing ~40% of the drawing) to save a few modules at best.
        svg = QRCode.toString([{ data: Buffer.from(payloadOf(qrId)), mode: 'byte' }], { type: 'svg', errorCorrectionLevel: 'M', margin: 1 })
          // qrcode concatenates the path from thousands of small pieces; V8 keeps such a string as
          // a tree of them (~25 KB instead of ~2 KB). Copy it flat before it is kept.
          .then((text) => Buffer.from(text).toString());
        cache.set(qrId, svg);
        if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
      }
      return svg;
    },
  };
}
