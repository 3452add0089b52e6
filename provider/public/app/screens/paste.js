// "Can't scan? Paste the login link": the fallback when there is no camera (or no HTTPS).
import { h } from '../dom.js';
import { looksLikeLoginCode } from '../format.js';
import { t } from '../i18n.js';
import { startConfirm } from './confirm.js';

export function pasteForm(app) {
  const input = h('input', {
    id: 'payload',
    name: 'payload',
    type: 'url',
    inputmode: 'url',
    autocomplete: 'off',
    autocapitalize: 'none',
    spellcheck: 'false',
    placeholder: t('pastePlaceholder'),
    required: true,
  });
  const message = h('p', { class: 'message error', role: 'alert', id: 'payload-message' });
  return h(
    'form',
    {
      class: 'paste',
      id: 'paste-form',
      novalidate: true,
      onsubmit(event) {
        event.preventDefault();
        const text = input.value.trim();
        if (!looksLikeLoginCode(text)) {
          message.textContent = t('result_invalid_qr_body');
          return;
        }
        startConfirm(app, text);
      },
    },
    h('label', { for: 'payload' }, t('pasteLabel')),
    h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary', id: 'payload-submit' }, t('continue'))),
    message,
  );
}
