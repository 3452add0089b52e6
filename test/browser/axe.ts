/**
 * axe-core in the browser tests: WCAG 2.2 A and AA rules run inside the page as it is shown,
 * and what a person with a screen reader or a keyboard would hit comes back in plain text.
 *
 * Our pages send a strict CSP (script-src 'self'): the contexts that run axe are created with
 * `bypassCSP: true`, and axe goes in as an inline script tag, which that setting lets through.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.0, 2.1 and 2.2, levels A and AA (2.2 added only AA rules to axe, e.g. target-size). */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export interface AxeNode {
  target: unknown[];
  html: string;
  failureSummary?: string;
}
export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

/** Runs axe on the page (or one frame of it) and returns every WCAG A/AA violation. */
export async function axeViolations(page: Page | Frame): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const { violations } = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    // Only what the report needs crosses back (axe's full results hold DOM-derived objects).
    return violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
}

export const isSerious = (v: AxeViolation) => v.impact === 'serious' || v.impact === 'critical';

/** One violation as a person reads it: rule, impact, what to do, and each element with why. */
export function describeViolation(v: AxeViolation): string {
  const nodes = v.nodes
    .slice(0, 8)
    .map((n) => `    ${n.target.join(' ')}  ${n.html.replace(/\s+/g, ' ').slice(0, 160)}\n      ${(n.failureSummary ?? '').replace(/\n\s*/g, '\n      ')}`)
    .join('\n');
  const more = v.nodes.length > 8 ? `\n    … and ${v.nodes.length - 8} more` : '';
  return `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}${more}`;
}

/**
 * Audits pages one after another and keeps a tally per page (counts by impact), written to
 * test-artifacts/accessibility.json at the end so a run can be compared with an earlier one.
 */
export class AxeAudit {
  readonly pages: Array<{ name: string; url: string; counts: Record<string, number>; serious: string[] }> = [];

  /** Runs axe and returns the serious and critical violations, described. */
  async check(page: Page | Frame, name: string): Promise<string[]> {
    const violations = await axeViolations(page);
    const counts: Record<string, number> = {};
    for (const v of violations) counts[v.impact ?? 'unknown'] = (counts[v.impact ?? 'unknown'] ?? 0) + v.nodes.length;
    const serious = violations.filter(isSerious).map(describeViolation);
    this.pages.push({ name, url: page.url(), counts, serious });
    if (serious.length) console.log(`axe: ${name} (${page.url()})\n${serious.join('\n')}`);
    return serious;
  }

  save(file = path.resolve('test-artifacts/accessibility.json')): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(this.pages, null, 2)}\n`);
  }
}

/**
 * What the focused element shows a sighted keyboard user: its focus ring, described, or null
 * when there is none to see (no outline, thinner than 2 px, or not opaque: a faint tint is what
 * WCAG 1.4.11 fails for); and whether something else (a sticky bar) covers it (WCAG 2.4.11).
 * A visually hidden file input's ring is on the label that stands for it.
 */
export async function focusIndicator(page: Page): Promise<{ tag: string; text: string; ring: string | null; obscured: boolean }> {
  return page.evaluate(() => {
    let el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { tag: 'body', text: '', ring: null, obscured: false };
    if (el instanceof HTMLInputElement && el.type === 'file' && el.labels?.[0]) el = el.labels[0];
    const s = getComputedStyle(el);
    const alpha = /rgba\([^)]*,\s*([\d.]+)\)/.exec(s.outlineColor)?.[1];
    const visible = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 && (alpha === undefined || Number(alpha) === 1);
    // The middle of the part inside the viewport (Chromium leaves a field partly below the fold).
    const box = el.getBoundingClientRect();
    const [top, bottom] = [Math.max(0, box.top), Math.min(innerHeight, box.bottom)];
    const [left, right] = [Math.max(0, box.left), Math.min(innerWidth, box.right)];
    const onTop = bottom > top && right > left ? document.elementFromPoint((left + right) / 2, (top + bottom) / 2) : null;
    const text = el.textContent.trim().slice(0, 40) || el.id;
    return {
      tag: el.tagName.toLowerCase(),
      text,
      ring: visible ? `${s.outlineWidth} ${s.outlineStyle} ${s.outlineColor}` : null,
      obscured: !onTop || !(el.contains(onTop) || onTop.contains(el)),
    };
  });
}
