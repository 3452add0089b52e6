// Browser APIs the pages use that TypeScript's DOM library does not describe yet.

/** Shape Detection API (Chromium, Safari 17+): the phone app reads QR codes with it where present. */
declare class BarcodeDetector {
  constructor(options?: { formats?: string[] });
  static getSupportedFormats(): Promise<string[]>;
  detect(source: CanvasImageSource | ImageBitmapSource): Promise<Array<{ rawValue: string; format: string }>>;
}
