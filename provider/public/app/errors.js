import { has, t } from './i18n.js';

/** What to tell the person about a failed call: our words for known codes, else the server's. */
export function errorText(err) {
  if (err?.code === 'network_error') return t('networkError');
  if (err?.status === 429) return t('err_rate_limited');
  if (err?.code && has(`err_${err.code}`)) return t(`err_${err.code}`);
  return err?.message || t('result_error');
}
