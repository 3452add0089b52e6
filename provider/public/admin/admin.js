// Saoma admin console: small enhancements only; every page works without this file.
// - [data-copy="#selector"]: copies that element's text (AppSecrets, admin tokens).
// - [data-enable-when="#input"][data-expected="…"]: enabled only once the input equals the
//   expected text (the delete confirmation; the server checks it again).
'use strict';

document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
  if (!button) return;
  const source = document.querySelector(button.getAttribute('data-copy'));
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => (button.textContent = label), 1500);
  } catch {
    // No clipboard permission (e.g. plain http on a LAN address): select it for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
});

for (const button of document.querySelectorAll('[data-enable-when]')) {
  const input = /** @type {HTMLInputElement | null} */ (document.querySelector(button.getAttribute('data-enable-when')));
  const expected = button.getAttribute('data-expected');
  if (!input) continue;
  const target = /** @type {HTMLButtonElement} */ (button);
  const sync = () => {
    target.disabled = input.value.trim() !== expected;
  };
  input.addEventListener('input', sync);
  sync();
}
