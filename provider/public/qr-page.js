// Keeps the QR page live: SSE first, long-poll when SSE is not available, a new QR on expiry,
// and the hop to /complete once the phone has decided. No framework, no build step.
(() => {
  const root = document.getElementById('qr-root');
  if (!root) return;
  const t = JSON.parse(document.getElementById('qr-text').textContent);
  const uid = root.dataset.uid;
  const base = `/interaction/${encodeURIComponent(uid)}`;
  const el = (id) => document.getElementById(id);
  let state = { qrId: root.dataset.qrId, status: root.dataset.status, expiresAt: Number(root.dataset.expiresAt) };
  let finished = false;
  let refreshing = false;

  function show(s) {
    root.dataset.status = s.status;
    el('qr-status').textContent = t[s.status] || s.status;
    const overlay = el('qr-overlay');
    overlay.hidden = !(s.status === 'scanned' || s.status === 'confirmed' || s.status === 'denied');
    if (s.user) {
      el('scanner-name').textContent = s.user.nickname || '';
      const avatar = el('scanner-avatar');
      if (s.user.picture) { avatar.src = s.user.picture; avatar.hidden = false; } else avatar.hidden = true;
    }
  }

  async function refreshQr() {
    if (refreshing || finished) return;
    refreshing = true;
    try {
      const res = await fetch(`${base}/qr`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) { gone(); return; }
      const qr = await res.json();
      el('qr-svg').innerHTML = qr.svg; // server-generated SVG from the qrcode library
      const link = el('qr-link');
      link.href = qr.payload;
      link.textContent = qr.payload;
      apply({ qrId: qr.qrId, status: qr.status, expiresAt: Date.parse(qr.expiresAt), user: qr.user });
    } catch {
      setTimeout(() => { refreshing = false; refreshQr(); }, 2000 + Math.random() * 2000);
      return;
    }
    refreshing = false;
  }

  function gone() {
    finished = true;
    root.dataset.status = 'gone';
    el('qr-status').textContent = t.gone;
  }

  function apply(s) {
    if (finished) return;
    const expiresAt = typeof s.expiresAt === 'string' ? Date.parse(s.expiresAt) : s.expiresAt;
    if (s.qrId && s.qrId !== state.qrId && !refreshing && s.status === 'pending') {
      // Another tab rotated the QR: fetch its image.
      state = { ...s, expiresAt };
      refreshQr();
      return;
    }
    state = { ...state, ...s, expiresAt };
    show(state);
    if (s.status === 'confirmed') { finished = true; location.assign(`${base}/complete`); }
    else if (s.status === 'denied') { finished = true; setTimeout(() => location.assign(`${base}/complete`), 1500); }
    else if (s.status === 'expired') refreshQr();
  }

  function tick() {
    const left = Math.max(0, Math.round((state.expiresAt - Date.now()) / 1000));
    el('qr-countdown').textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    if (left === 0 && (state.status === 'pending' || state.status === 'scanned')) apply({ ...state, status: 'expired' });
  }
  setInterval(tick, 1000);
  tick();

  // Long-poll fallback with capped, jittered backoff: a restarting server is not stampeded.
  async function poll() {
    let delay = 1000;
    while (!finished) {
      try {
        const res = await fetch(`${base}/qr/status?last=${encodeURIComponent(state.status)}&wait=25`, { credentials: 'same-origin' });
        if (res.status === 400 || res.status === 404) { gone(); return; }
        if (!res.ok) throw new Error(String(res.status));
        apply(await res.json());
        delay = 1000;
      } catch {
        el('qr-status').textContent = t.offline;
        await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
        delay = Math.min(delay * 2, 15000);
      }
    }
  }

  if ('EventSource' in window) {
    const es = new EventSource(`${base}/qr/events`);
    let failures = 0;
    es.addEventListener('status', (e) => { failures = 0; apply(JSON.parse(e.data)); if (finished) es.close(); });
    es.onerror = () => {
      // EventSource reconnects by itself; after repeated failures switch to long-poll.
      if (++failures >= 3 || es.readyState === EventSource.CLOSED) { es.close(); poll(); }
      else if (!finished) el('qr-status').textContent = t.offline;
    };
  } else {
    poll();
  }
})();
