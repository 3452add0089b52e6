/**
 * The README's Configuration table is where operators learn the settings: every setting the
 * provider reads (provider/src/config.ts, the one schema) must have its row there.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { configSchema } from '../../provider/src/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

it("every setting in config.ts has a row in the README's Configuration table", () => {
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  const documented = new Set(rows.flatMap((row) => [...(row.split(' | ')[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])));
  const settings = Object.keys(configSchema.shape);
  expect(settings.length).toBeGreaterThan(30);
  expect(settings.filter((name) => !documented.has(name))).toEqual([]);
});
