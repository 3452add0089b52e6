/**
 * docs/API.md is the contract clients are written against; the OpenAPI documents are generated
 * from the routes themselves. Every route those documents list must appear in API.md, so a
 * route cannot be added (or renamed) without the contract saying so.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adminToken } from '../admin/support.js';
import { useProvider } from '../support/harness.js';

const apiMd = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');

type Doc = { paths: Record<string, Record<string, unknown>> };

/** `/api/mobile/scans/{qrId}/confirm` → `/api/mobile/scans/:qrId/confirm`, as API.md writes it. */
const asWritten = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** API.md wraps long lines ("`DELETE\n  /users/:userId`"), so compare with whitespace removed. */
const flat = apiMd.replace(/\s+/g, '');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The operations of `doc` that API.md does not name as "METHOD path" (the phone section writes
 * whole paths, the admin section paths under `/api/admin`); a longer path does not count.
 */
function undocumented(doc: Doc, base: string): string[] {
  const missing: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths))
    for (const method of Object.keys(ops)) {
      const written = asWritten(path);
      const forms = [written, written.slice(base.length)].map((p) => new RegExp(`${method.toUpperCase()}${escape(p)}(?![\\w/:-])`));
      if (!forms.some((form) => form.test(flat))) missing.push(`${method.toUpperCase()} ${written}`);
    }
  return missing;
}

describe('docs/API.md names every route of the generated API documents', () => {
  const p = useProvider('embedded');

  it('the phone API (/api/mobile/openapi.json)', async () => {
    const doc = (await (await fetch(`${p.issuer}/api/mobile/openapi.json`)).json()) as Doc;
    const paths = Object.keys(doc.paths);
    expect(paths.length).toBeGreaterThan(15);
    expect(undocumented(doc, '/api/mobile')).toEqual([]);
  });

  it('the admin API (/api/admin/openapi.json)', async () => {
    const token = await adminToken(p);
    const res = await fetch(`${p.issuer}/api/admin/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    const paths = Object.keys(doc.paths);
    expect(paths.length).toBeGreaterThan(25);
    expect(undocumented(doc, '/api/admin')).toEqual([]);
  });
});
