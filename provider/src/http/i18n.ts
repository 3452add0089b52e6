import type { Request } from 'express';

export type Lang = 'zh' | 'en';

/** `?lang=` / `ui_locales` first, then Accept-Language; Chinese for zh*, English otherwise. */
export function pickLang(req: Request, hint?: unknown): Lang {
  const explicit = [req.query.lang, hint].find((v) => typeof v === 'string' && v) as string | undefined;
  if (explicit) return /^zh/i.test(explicit) ? 'zh' : 'en';
  return req.acceptsLanguages('zh', 'zh-CN', 'en') && /^zh/i.test(String(req.acceptsLanguages('zh', 'zh-CN', 'en'))) ? 'zh' : 'en';
}
