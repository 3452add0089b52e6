/**
 * Where the CPU went: reads V8 .cpuprofile files (node --cpu-prof) and prints the top functions
 * and packages by self time, over all files given (e.g. every cluster worker's profile).
 *
 *   npx tsx bench/top-profile.ts <file.cpuprofile | directory> [--top 25] [--from µs --to µs]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Only samples taken in [from, to], in µs of the monotonic clock V8 stamps profiles with (the
 * same as process.hrtime.bigint() / 1000n in any process on the box): the measured window
 * without start-up, module compilation or warm-up.
 */
export interface TimeWindow {
  from: number;
  to: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IDLE = new Set(['(idle)', '(root)']);

/** The package a script belongs to: npm package, node core, our own source folder, or a V8 pseudo-frame. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node (core)';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const [first, second] = file.slice(nm + 14).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  if (file.startsWith(ROOT)) return path.dirname(path.relative(ROOT, file));
  return file;
}

function shortUrl(url: string): string {
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) return file.slice(nm + 14);
  return file.startsWith(ROOT) ? path.relative(ROOT, file) : file;
}

function filesOf(target: string): string[] {
  if (!fs.statSync(target).isDirectory()) return [target];
  return fs
    .readdirSync(target)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(target, f));
}

/** Self time (µs) per function and per package, summed over the profiles. */
export function selfTimes(files: string[], window?: TimeWindow) {
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (window && (at < window.from || at > window.to)) return;
      self.set(id, (self.get(id) ?? 0) + delta);
    });
    for (const [id, us] of self) {
      const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
      total += us;
      if (IDLE.has(functionName)) {
        idle += us;
        continue;
      }
      const fn = `${functionName || '(anonymous)'}${url ? `  ${shortUrl(url)}:${lineNumber + 1}` : ''}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      const pkg = packageOf(url, functionName);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    }
  }
  return { byFunction, byPackage, busyUs: total - idle, idleUs: idle };
}

export function summarizeProfiles(target: string, top = 25, window?: TimeWindow): string {
  const files = filesOf(target);
  if (!files.length) return `no .cpuprofile files in ${target}`;
  const { byFunction, byPackage, busyUs } = selfTimes(files, window);
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return [
    `${files.length} profile(s)${window ? `, ${((window.to - window.from) / 1e6).toFixed(1)} s window` : ''}, ${(busyUs / 1e6).toFixed(1)} s busy (idle excluded; % of busy)`,
    `\ntop ${top} functions by self time\n${rows(byFunction)}`,
    `\ntop ${top} packages by self time\n${rows(byPackage)}`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: npx tsx bench/top-profile.ts <file.cpuprofile | directory> [--top 25] [--from µs --to µs]');
    process.exit(2);
  }
  const option = (name: string) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : undefined;
  };
  const from = option('--from');
  const to = option('--to');
  console.log(summarizeProfiles(target, option('--top') ?? 25, from !== undefined && to !== undefined ? { from, to } : undefined));
}
