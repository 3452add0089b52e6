// Minimal phone app (sign in, open a QR link, confirm/deny). The full app is tracked separately.
(() => {
  const root = document.getElementById('app');
  const api = async (method, path, body) => {
    const token = localStorage.getItem('saoma.token');
    const res = await fetch(`/api/mobile${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(data.error_description || res.statusText), { code: data.error, status: res.status });
    return data;
  };
  const h = (tag, attrs = {}, ...children) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (k.startsWith('on')) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v);
    for (const c of children) el.append(c);
    return el;
  };
  const pendingQr = () => (location.pathname.match(/^\/q\/([A-Za-z0-9_-]+)/) || [])[1];

  async function signIn() {
    const msg = h('p', { class: 'status' });
    const user = h('input', { name: 'username', placeholder: 'username', autocomplete: 'username' });
    const pass = h('input', { name: 'password', type: 'password', placeholder: 'password', autocomplete: 'current-password' });
    root.replaceChildren(h('h1', {}, 'Saoma'), h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try { const r = await api('POST', '/login', { username: user.value, password: pass.value, deviceName: navigator.userAgent.slice(0, 60) }); localStorage.setItem('saoma.token', r.token); start(); }
      catch (err) { msg.textContent = err.message; }
    } }, user, pass, h('button', { type: 'submit' }, 'Sign in')), msg);
  }

  async function home(me) {
    const link = h('input', { placeholder: 'QR link', name: 'payload' });
    const msg = h('p', { class: 'status' });
    root.replaceChildren(h('h1', {}, `Hi, ${me.user.nickname}`), h('form', { onsubmit: (e) => { e.preventDefault(); scan(link.value).catch((err) => { msg.textContent = err.message; }); } }, link, h('button', { type: 'submit' }, 'Open')), msg,
      h('button', { class: 'secondary', onclick: async () => { await api('POST', '/logout').catch(() => {}); localStorage.removeItem('saoma.token'); signIn(); } }, 'Sign out'));
  }

  async function scan(payload) {
    const s = await api('POST', '/scans', { payload });
    const msg = h('p', { class: 'status' });
    const decide = (what) => async () => { try { const r = await api('POST', `/scans/${s.qrId}/${what}`); msg.textContent = r.status; } catch (err) { msg.textContent = err.message; } };
    root.replaceChildren(
      h('h1', {}, s.app.name), h('p', {}, `wants you to log in (${s.app.domain || ''})`),
      h('p', { class: 'muted' }, `Scopes: ${s.scopes.join(', ')}`),
      h('p', { class: 'muted' }, `Requested from ${s.requester.ip} · ${s.requester.userAgent}`),
      s.requester.sameNetworkAsPhone ? '' : h('p', { class: 'status' }, 'Warning: the computer is on a different network than this phone.'),
      h('button', { onclick: decide('confirm') }, 'Confirm'), ' ', h('button', { class: 'secondary', onclick: decide('deny') }, 'Deny'), msg);
  }

  async function start() {
    if (!localStorage.getItem('saoma.token')) return signIn();
    try {
      const me = await api('GET', '/me');
      const qrId = pendingQr();
      if (qrId) { history.replaceState(null, '', '/app'); await scan(qrId).catch((err) => { root.replaceChildren(h('p', { class: 'status' }, err.message)); }); }
      else home(me);
    } catch (err) { if (err.status === 401) { localStorage.removeItem('saoma.token'); signIn(); } else root.textContent = err.message; }
  }
  start();
})();
