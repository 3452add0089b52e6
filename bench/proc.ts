/**
 * What the kernel says about a process tree (Linux /proc): CPU seconds and resident memory.
 * The bench reads the server's whole tree (cluster primary and workers) from outside, so the
 * numbers include everything the server does and nothing the load generator does.
 */
import fs from 'node:fs';

/** Clock ticks per second for utime/stime; 100 on every Linux this runs on (getconf CLK_TCK). */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

interface Stat {
  pid: number;
  ppid: number;
  ticks: number;
  systemTicks: number;
  rssBytes: number;
}

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited between listing and reading
  }
  // The command name may contain spaces and parentheses: fields start after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid = 4, utime = 14, stime = 15, rss = 24 (in pages).
  return {
    pid,
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    systemTicks: Number(fields[12]),
    rssBytes: Number(fields[21]) * PAGE_BYTES,
  };
}

/** `root` and all its descendants (this kernel has no /proc/<pid>/task/<tid>/children: scan ppids). */
export function processTree(root: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    const list = byParent.get(s.ppid) ?? [];
    list.push(s.pid);
    byParent.set(s.ppid, list);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const child of byParent.get(pid) ?? []) walk(child);
  };
  walk(root);
  return out;
}

export interface TreeUsage {
  pids: number[];
  cpuSeconds: number;
  /** The kernel's share of cpuSeconds (system time: syscalls, loopback TCP, page faults). */
  systemSeconds: number;
  rssBytes: number;
}

/** CPU seconds (user + system) consumed so far and current RSS, summed over the live tree. */
export function treeUsage(root: number): TreeUsage {
  const pids = processTree(root);
  let ticks = 0;
  let systemTicks = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const s = readStat(pid);
    if (!s) continue;
    ticks += s.ticks;
    systemTicks += s.systemTicks;
    rssBytes += s.rssBytes;
  }
  return { pids, cpuSeconds: ticks / TICKS_PER_SECOND, systemSeconds: systemTicks / TICKS_PER_SECOND, rssBytes };
}

/** RSS of one process, from /proc/<pid>/status (VmRSS, kB). */
export function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** The machine, for the report. */
export function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = fs.readFileSync('/proc/meminfo', 'utf8');
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  return {
    cpus: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
    node: process.version,
    loadAverage: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

/** Ticks the whole box spent busy and in total so far (/proc/stat, all CPUs). */
export function boxTicks(): { busy: number; total: number } {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = cpu[3] + (cpu[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** CPU seconds of every process whose command line contains `needle` (e.g. PostgreSQL backends of one database). */
export function cpuOfMatching(needle: string): number {
  let ticks = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) continue;
    } catch {
      continue;
    }
    const s = readStat(Number(name));
    if (s) ticks += s.ticks;
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds of one process (e.g. redis-server), 0 when it is not ours to read. */
export function cpuOf(pid: number): number {
  return (readStat(pid)?.ticks ?? 0) / TICKS_PER_SECOND;
}

/** This process's soft limit on open files (children inherit it): `ulimit -n`. */
export function openFileLimit(): number {
  const line = /^Max open files\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1];
  return line === 'unlimited' || !line ? Infinity : Number(line);
}

/** Ticks of every live process, for "who else was busy" over a window. */
export function allTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.set(s.pid, s.ticks);
  }
  return out;
}

/** The busiest processes between two allTicks() snapshots, outside `exclude`, in cores. */
export function busiestOthers(before: Map<number, number>, after: Map<number, number>, seconds: number, exclude: Set<number>, top = 4) {
  const rows: { pid: number; command: string; cores: number }[] = [];
  for (const [pid, ticks] of after) {
    if (exclude.has(pid)) continue;
    const cores = (ticks - (before.get(pid) ?? 0)) / TICKS_PER_SECOND / seconds;
    if (cores < 0.02) continue;
    let command: string;
    try {
      command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 90);
      // Kernel threads have no command line: their name, bracketed as ps shows it.
      if (!command) command = `[${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
    } catch {
      continue;
    }
    rows.push({ pid, command, cores: Math.round(cores * 100) / 100 });
  }
  return rows.sort((a, b) => b.cores - a.cores).slice(0, top);
}
