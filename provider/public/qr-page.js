// Keeps the QR page live: SSE first, long-poll when SSE is not available, a new QR on expiry,
// the scanner's avatar and nickname over the QR once scanned (like WeChat), and the hop to
// /complete once the phone has decided. No framework, no build step, no inline handlers;
// every dynamic text goes through textContent.
(() => {
  const root = document.getElementById('qr-root');
  if (!root) return;
  const t = JSON.parse(document.getElementById('qr-text').textContent);
  const base = `/interaction/${encodeURIComponent(root.dataset.uid)}`;
  const el = (id) => document.getElementById(id);
  // The server's clock drives expiresAt; this page's may differ. Compare the server's render
  // time with when the response reached us (not when this script ran, which is later).
  const nav = /** @type {PerformanceNavigationTiming | undefined} */ (performance.getEntriesByType?.('navigation')[0]);
  const received = nav ? performance.timeOrigin + nav.responseStart : Date.now();
  const skew = Number(root.dataset.serverNow) ? Number(root.dataset.serverNow) - received : 0;
  const now = () => Date.now() + skew;

  const nickname = root.dataset.userNickname;
  let state = {
    qrId: root.dataset.qrId,
    status: root.dataset.status,
    expiresAt: Number(root.dataset.expiresAt),
    user: nickname ? { nickname, picture: root.dataset.userPicture || null } : undefined,
  };
  let total = Math.max(1000, state.expiresAt - now());
  const retired = new Set(); // qrIds this page has replaced: late news about them is ignored
  let finished = false;
  let refreshing = false;
  let refreshFailed = false;
  let offline = false;

  const BADGES = { denied: '✕', expired: '↻', gone: '!', confirmed: '✓' };

  function render() {
    const s = state.status;
    root.dataset.status = s;
    const statusLine = el('qr-status');
    const troubled = (offline || refreshFailed) && !finished;
    // A live region (role=status): only a new text is written, so a screen reader says each
    // change once, not again on every reconnect.
    const text = troubled ? t.offline : t[s] || s;
    if (statusLine.textContent !== text) statusLine.textContent = text;
    statusLine.classList.toggle('offline', troubled);

    const decided = s === 'scanned' || s === 'confirmed' || s === 'denied';
    const user = decided ? state.user : undefined;
    el('qr-overlay').hidden = s === 'pending';
    const avatar = el('scanner-avatar');
    const initial = el('scanner-initial');
    const picture = user?.picture && /^https?:\/\//i.test(user.picture) ? user.picture : null;
    if (picture && avatar.getAttribute('src') !== picture) /** @type {HTMLImageElement} */ (avatar).src = picture;
    avatar.hidden = !picture || s === 'denied';
    initial.hidden = !user || !!picture || s === 'denied';
    initial.textContent = user ? (Array.from(user.nickname.trim())[0] ?? '?').toUpperCase() : '';
    const badge = el('overlay-badge');
    const glyph = s === 'confirmed' && user ? '' : (BADGES[s] ?? '');
    badge.hidden = !glyph;
    badge.textContent = glyph;
    el('scanner-name').textContent = user?.nickname ?? '';
    el('overlay-text').textContent = s === 'scanned' ? t.scannedShort : s === 'expired' ? t.expiredShort : '';
    el('qr-refresh').hidden = !(s === 'expired' && refreshFailed);
    tick();
  }

  function tick() {
    const left = Math.max(0, state.expiresAt - now());
    const seconds = Math.ceil(left / 1000);
    el('qr-countdown').textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
    el('qr-bar').style.width = `${Math.min(100, (left / total) * 100)}%`;
    el('qr-timer').classList.toggle('low', left < 20_000);
    if (left === 0 && (state.status === 'pending' || state.status === 'scanned')) apply({ ...state, status: 'expired' });
  }

  /** Swap in the server's SVG (from our own qrcode library) without innerHTML. */
  function showSvg(svgText) {
    const svg = new DOMParser().parseFromString(svgText, 'image/svg+xml').documentElement;
    if (svg.nodeName.toLowerCase() === 'svg') el('qr-svg').replaceChildren(document.importNode(svg, true));
  }

  let refreshDelay = 2000;
  async function refreshQr() {
    if (refreshing || finished) return;
    refreshing = true;
    let qr;
    try {
      const res = await fetch(`${base}/qr`, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 400 || res.status === 404) {
        refreshing = false;
        return gone();
      }
      if (!res.ok) throw new Error(String(res.status));
      qr = await res.json();
    } catch {
      // Server restarting or network down: say so, offer the button, and keep trying (jittered).
      refreshing = false;
      refreshFailed = true;
      render();
      setTimeout(refreshQr, refreshDelay + Math.random() * refreshDelay);
      refreshDelay = Math.min(refreshDelay * 2, 30_000);
      return;
    }
    refreshing = false;
    refreshFailed = false;
    refreshDelay = 2000;
    if (qr.qrId !== state.qrId) {
      retired.add(state.qrId);
      showSvg(qr.svg);
      const link = /** @type {HTMLAnchorElement} */ (el('qr-link'));
      link.href = qr.payload;
      link.textContent = qr.payload;
      state = { qrId: qr.qrId, status: qr.status, expiresAt: Date.parse(qr.expiresAt), user: qr.user };
      root.dataset.qrId = qr.qrId;
      total = Math.max(1000, state.expiresAt - now());
      render();
    } else {
      apply({ ...qr, svg: undefined });
    }
  }

  function gone() {
    finished = true;
    state = { ...state, status: 'gone' };
    render();
  }

  function apply(s) {
    if (finished || !s) return;
    if (s.qrId && retired.has(s.qrId)) return;
    if (s.qrId && s.qrId !== state.qrId) {
      // A QR this page has not shown yet (the server rotated it, or another tab did).
      refreshQr();
      return;
    }
    const expiresAt = typeof s.expiresAt === 'string' ? Date.parse(s.expiresAt) : (s.expiresAt ?? state.expiresAt);
    if (s.status === 'scanned' && state.status !== 'scanned') total = Math.max(1000, expiresAt - now()); // the phone's time to decide
    state = { ...state, ...s, expiresAt, user: s.user ?? state.user };
    render();
    if (s.status === 'confirmed') {
      finished = true;
      location.assign(`${base}/complete`);
    } else if (s.status === 'denied') {
      // Long enough to read that it was denied; /complete then sends access_denied to the site.
      finished = true;
      setTimeout(() => location.assign(`${base}/complete`), 1500);
    } else if (s.status === 'expired') {
      refreshQr();
    }
  }

  function setOffline(value) {
    if (offline === value) return;
    offline = value;
    render();
  }

  // Long-poll fallback with capped, jittered backoff: a restarting server is not stampeded.
  async function poll() {
    let delay = 1000;
    while (!finished) {
      try {
        const res = await fetch(`${base}/qr/status?last=${encodeURIComponent(state.status)}&wait=25`, { credentials: 'same-origin', cache: 'no-store' });
        if (res.status === 400 || res.status === 404) return gone();
        if (!res.ok) throw new Error(String(res.status));
        setOffline(false);
        apply(await res.json());
        delay = 1000;
      } catch {
        setOffline(true);
        await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
        delay = Math.min(delay * 2, 15_000);
      }
    }
  }

  el('qr-refresh').addEventListener('click', () => refreshQr());
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && tick());
  setInterval(tick, 1000);
  render();

  if ('EventSource' in window) {
    const es = new EventSource(`${base}/qr/events`);
    let failures = 0;
    es.addEventListener('open', () => setOffline(false));
    es.addEventListener('status', (e) => {
      failures = 0;
      setOffline(false);
      apply(JSON.parse(e.data));
      if (finished) es.close();
    });
    es.onerror = () => {
      if (finished) return es.close();
      // EventSource reconnects by itself; after repeated failures switch to long-poll.
      if (++failures >= 3 || es.readyState === EventSource.CLOSED) {
        es.close();
        poll();
      } else setOffline(true);
    };
  } else {
    poll();
  }
})();
