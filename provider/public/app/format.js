// Plain-words formatting for the confirm screen and the lists: user agents, times, countdowns.
// No DOM here, so it is unit-tested in Node (test/browser/phone-format.test.ts).

/** @type {Array<[RegExp, string]>} */
const BROWSERS = [
  [/MicroMessenger\//, 'WeChat'],
  [/EdgA?\/|EdgiOS\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/UCBrowser\//, 'UC Browser'],
  [/QQBrowser\//, 'QQ Browser'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/CriOS\/|HeadlessChrome\/|Chrome\/|Chromium\//, 'Chrome'],
  [/Version\/[\d.]+.*Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
];

// Order matters: iPhone UAs say "like Mac OS X", Android UAs say "Linux".
/** @type {Array<[RegExp, string]>} */
const SYSTEMS = [
  [/Windows NT|Windows Phone/, 'Windows'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/HarmonyOS|OpenHarmony/, 'HarmonyOS'],
  [/Macintosh|Mac OS X/, 'macOS'],
  [/Linux|X11/, 'Linux'],
];

/** "Chrome on Linux": browser and system names, or null for a part that is not recognised. */
export function summariseUserAgent(ua) {
  const text = String(ua ?? '');
  const browser = BROWSERS.find(([re]) => re.test(text))?.[1] ?? null;
  const os = SYSTEMS.find(([re]) => re.test(text))?.[1] ?? null;
  return { browser, os };
}

/** m:ss for the countdown; never negative. */
export function formatCountdown(ms) {
  const left = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}

/**
 * A date and time in the person's language; only the time when it is today (`now` decides),
 * with seconds when asked.
 */
export function formatTime(iso, lang, withSeconds = false, now = Date.now()) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const today = new Date(now).toDateString() === date.toDateString();
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en', {
    ...(today ? {} : { dateStyle: 'medium' }),
    timeStyle: withSeconds ? 'medium' : 'short',
  }).format(date);
}

/** "5 seconds ago" / "5 秒前"; falls back to the full time after a day. */
export function formatAgo(iso, lang, now = Date.now()) {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return '';
  const seconds = Math.round((then - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang === 'zh' ? 'zh-CN' : 'en', { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return formatTime(iso, lang);
}

/** The scanned text names a login when it is our /q/ URL or a bare QR id (server checks again). */
export function looksLikeLoginCode(text) {
  const value = String(text ?? '').trim();
  if (/^[A-Za-z0-9_-]{16,64}$/.test(value)) return true;
  try {
    return /^\/q\/[A-Za-z0-9_-]{16,64}\/?$/.test(new URL(value).pathname);
  } catch {
    return false;
  }
}

/** The qrId in a /q/:qrId path, if the page was opened from a QR code. */
export function qrIdFromPath(pathname) {
  return /^\/q\/([A-Za-z0-9_-]{16,64})\/?$/.exec(pathname)?.[1] ?? null;
}
