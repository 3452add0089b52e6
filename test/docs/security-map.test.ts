/**
 * SECURITY.md maps every threat to the test that would fail if its mitigation broke
 * (`file › test name`, `…` for the file before). This keeps the map true: every named file
 * exists and holds a test of that name.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const text = fs.readFileSync('SECURITY.md', 'utf8');

/** Every `file › name` reference, with `…` resolved to the file named before it in the same cell. */
function references(): Array<{ file: string; name: string }> {
  const refs: Array<{ file: string; name: string }> = [];
  for (const line of text.split('\n').filter((l) => l.startsWith('|'))) {
    let file = '';
    for (const [, code] of line.matchAll(/`([^`]+ › [^`]+)`/g)) {
      const [head, name] = code.split(' › ');
      if (head !== '…') file = head;
      if (file) refs.push({ file, name });
    }
  }
  return refs;
}

/**
 * Does the test file name this test? Literally; or through a template title
 * (`it(\`… ${kind} …\`)`); or a table of cases (`['a sibling subdomain', …]` run as
 * `refuses ${label}`): the name less its first word appears as a case.
 */
function named(source: string, name: string): boolean {
  const plain = source.replace(/\\(['"`])/g, '$1');
  if (plain.includes(name)) return true;
  for (const [, title] of plain.matchAll(/\b(?:it|describe)(?:\.\w+\([^)]*\))?\(\s*`([^`]+)`/g)) {
    const pattern = title
      .split(/\$\{[^}]*\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+');
    if (new RegExp(`^${pattern}$`).test(name)) return true;
  }
  const rest = name.split(' ').slice(1).join(' ');
  return rest.length > 8 && plain.includes(`'${rest}'`);
}

describe('SECURITY.md', () => {
  it('names only tests that exist, in files that exist', () => {
    const refs = references();
    expect(refs.length).toBeGreaterThan(50);
    const missing = refs.filter(({ file, name }) => !fs.existsSync(file) || !named(fs.readFileSync(file, 'utf8'), name));
    expect(missing).toEqual([]);
  });
});
