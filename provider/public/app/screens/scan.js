// Scan with the camera: the browser's BarcodeDetector where it reads QR codes, the qr-scanner
// library otherwise. The camera needs a secure context (HTTPS or localhost); without one, or
// without a camera, a photo of the code or the pasted link still works.
import { h } from '../dom.js';
import { looksLikeLoginCode } from '../format.js';
import { t } from '../i18n.js';
import { icon } from '../icons.js';
import { startConfirm } from './confirm.js';
import { pasteForm } from './paste.js';

const QR_SCANNER = '/app/vendor/qr-scanner/qr-scanner.min.js';

export function scanScreen(app) {
  const here = app.alive();
  const video = h('video', { id: 'camera', playsinline: true, muted: true, autoplay: true });
  video.muted = true; // autoplay without a gesture needs the property, not only the attribute
  const viewfinder = h(
    'div',
    { class: 'viewfinder', id: 'viewfinder', dataset: { state: 'starting' } },
    video,
    h('div', { class: 'corners', 'aria-hidden': 'true' }),
    icon('camera', 'icon off'),
  );
  const status = h('p', { class: 'camera-status', id: 'camera-status', role: 'status' }, t('startingCamera'));
  const photo = h('input', { type: 'file', accept: 'image/*', capture: 'environment', id: 'photo-input', class: 'visually-hidden', onchange: onPhoto });

  let finished = false;
  let stopCamera = () => {};
  const stop = () => {
    const fn = stopCamera;
    stopCamera = () => {};
    fn();
  };
  app.onLeave(() => {
    finished = true;
    stop();
  });

  /** A decoded text: a login code goes on to the confirm screen, anything else is said so. */
  function found(text, via = `camera:${viewfinder.dataset.engine}`) {
    if (finished || !here()) return true;
    if (!looksLikeLoginCode(text)) {
      status.textContent = t('result_invalid_qr_body');
      return false;
    }
    finished = true;
    stop();
    startConfirm(app, String(text).trim(), via);
    return true;
  }

  function unavailable(key) {
    viewfinder.dataset.state = 'off';
    app.root.dataset.camera = key;
    status.textContent = t(key);
  }

  async function startCamera() {
    if (!window.isSecureContext) return unavailable('cameraInsecure');
    if (!navigator.mediaDevices?.getUserMedia) return unavailable('cameraUnavailable');
    try {
      if (await nativeDetectorReadsQr()) await startNative();
      else await startLibrary();
      if (!here()) return stop();
      viewfinder.dataset.state = 'live';
      app.root.dataset.camera = 'live';
      status.textContent = t('scanning');
    } catch (err) {
      stop();
      if (!here()) return;
      const name = String(err?.name ?? err);
      if (/NotAllowed|Security|Permission/i.test(name)) unavailable('cameraDenied');
      else if (/NotFound|Overconstrained|not found|NotReadable/i.test(name)) unavailable('cameraUnavailable');
      else unavailable('cameraFailed');
    }
  }

  async function startNative() {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
    stopCamera = () => stream.getTracks().forEach((track) => track.stop());
    video.srcObject = stream;
    await video.play();
    viewfinder.dataset.engine = 'barcode-detector';
    const detector = new BarcodeDetector({ formats: ['qr_code'] });
    const loop = async () => {
      if (finished || !here()) return;
      try {
        const codes = await detector.detect(video);
        if (codes.some((code) => found(code.rawValue))) return;
      } catch {
        // a frame that could not be read; the next one may
      }
      setTimeout(loop, 150);
    };
    loop();
  }

  async function startLibrary() {
    const { default: QrScanner } = await import(QR_SCANNER);
    const scanner = new QrScanner(video, (result) => found(result.data), {
      returnDetailedScanResult: true,
      preferredCamera: 'environment',
      maxScansPerSecond: 8,
      onDecodeError: () => {}, // "no QR code in this frame" is the normal case while aiming
    });
    stopCamera = () => scanner.destroy();
    viewfinder.dataset.engine = 'qr-scanner';
    await scanner.start();
  }

  async function onPhoto() {
    const file = photo.files?.[0];
    if (!file) return;
    status.textContent = t('checking');
    try {
      let text = null;
      if (await nativeDetectorReadsQr()) {
        const codes = await new BarcodeDetector({ formats: ['qr_code'] }).detect(await createImageBitmap(file));
        text = codes[0]?.rawValue ?? null;
      }
      if (!text) {
        const { default: QrScanner } = await import(QR_SCANNER);
        text = (await QrScanner.scanImage(file, { returnDetailedScanResult: true })).data;
      }
      found(text, 'photo');
    } catch {
      status.textContent = t('noQrInPhoto');
    } finally {
      photo.value = '';
    }
  }

  setTimeout(() => here() && startCamera(), 0); // once the video element is in the page

  return app.frame(
    { name: 'scan', tab: 'scan' },
    h('h1', { class: 'center' }, t('scan')),
    viewfinder,
    status,
    h('label', { for: 'photo-input', class: 'button secondary block', id: 'photo-button' }, icon('camera'), h('span', {}, t('fromPhoto'))),
    photo,
    pasteForm(app),
    h('button', { type: 'button', class: 'link-button', id: 'scan-cancel', onclick: () => app.go('#/') }, t('cancel')),
  );
}

async function nativeDetectorReadsQr() {
  try {
    return 'BarcodeDetector' in window && (await BarcodeDetector.getSupportedFormats()).includes('qr_code');
  } catch {
    return false;
  }
}
