// The one way the app builds DOM: elements and text nodes, never HTML strings, so nothing a
// server or another person wrote (app names, nicknames, user agents) can become markup.

/**
 * `h('button', {class: 'primary', onclick: fn}, 'Confirm')`. Strings become text nodes;
 * `on*` functions become listeners (no inline handlers, so a strict CSP holds).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true)
      el.setAttribute(key, ''); // boolean attributes: required, hidden, novalidate…
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Only http(s) URLs reach an img src or a link: no javascript:, data: or relative tricks. */
export function safeUrl(value) {
  try {
    const url = new URL(String(value));
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** A round picture, or the first letter of the name on a coloured disc when there is none. */
export function avatar(picture, name, cls = 'avatar') {
  const src = safeUrl(picture);
  if (src) return h('img', { class: cls, src, alt: '', referrerpolicy: 'no-referrer', width: 48, height: 48 });
  return h('span', { class: `${cls} placeholder`, 'aria-hidden': 'true' }, initial(name));
}

export const initial = (name) => (Array.from(String(name ?? '').trim())[0] ?? '?').toUpperCase();
