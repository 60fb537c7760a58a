/** Linux /proc readers: a broker's memory and CPU, per-CPU machine load, who listens on a port. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** A `Key:  123 kB` value of /proc/<pid>/status (VmRSS, VmHWM, ...), in KiB; -1 if unreadable. */
export function readStatusKb(pid: number, key: string): number {
  if (!(pid > 0)) return -1;
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may contain spaces and parentheses: fields start after the last ')'
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime of a process (all threads), in seconds; -1 if unreadable. */
export function readProcCpuS(pid: number): number {
  if (!(pid > 0)) return -1;
  const f = statFields(pid);
  if (!f) return -1;
  // after ')': [0] state ... [11] utime [12] stime (fields 14 and 15 of proc(5))
  return (Number(f[11]) + Number(f[12])) / ticksPerSecond();
}

export function processGroupOf(pid: number): number {
  const f = statFields(pid);
  return f ? Number(f[2]) : -1;
}

export interface CpuStat {
  busy: number[];
  total: number[];
}

/** Per-CPU busy and total jiffies from /proc/stat (busy excludes idle, iowait and steal). */
export function readCpuStat(): CpuStat {
  const out: CpuStat = { busy: [], total: [] };
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const v = m[2]!.split(/\s+/).map(Number);
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
      const total = user + nice + system + idle + iowait + irq + softirq + steal;
      out.busy[Number(m[1])] = total - idle - iowait - steal;
      out.total[Number(m[1])] = total;
    }
  } catch {
    /* not Linux */
  }
  return out;
}

/** Busy % of each CPU between two samples, and the machine's busy CPU-seconds. */
export function cpuBusy(a: CpuStat, b: CpuStat): { pct: number[]; seconds: number } {
  const pct: number[] = [];
  let seconds = 0;
  for (let i = 0; i < Math.min(a.total.length, b.total.length); i++) {
    const dt = (b.total[i] ?? 0) - (a.total[i] ?? 0);
    const db = (b.busy[i] ?? 0) - (a.busy[i] ?? 0);
    pct.push(dt > 0 ? Math.round((1000 * db) / dt) / 10 : 0);
    seconds += db / ticksPerSecond();
  }
  return { pct, seconds };
}

/** Socket inodes listening on TCP `port` (IPv4 and IPv6). */
export function listeningInodes(port: number): string[] {
  const out: string[] = [];
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (f[3] === '0A' && f[1]!.endsWith(`:${hex}`)) out.push(f[9]!);
    }
  }
  return out;
}

export function isListening(port: number): boolean {
  return listeningInodes(port).length > 0;
}

/**
 * The pid that owns the socket listening on `port`, looking only at `candidates` when given (the
 * processes of a broker's process group), else at every visible process. 0 if not found.
 */
export function findListenerPid(port: number, candidates?: number[]): number {
  const inodes = new Set(listeningInodes(port).map((i) => `socket:[${i}]`));
  if (inodes.size === 0) return 0;
  let pids = candidates;
  if (!pids) {
    try {
      pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
    } catch {
      return 0;
    }
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return pid;
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return 0;
}

/** Every visible pid in process group `pgid`. */
export function pidsInGroup(pgid: number): number[] {
  const out: number[] = [];
  let dirs: string[];
  try {
    dirs = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const d of dirs) {
    if (!/^\d+$/.test(d)) continue;
    if (processGroupOf(Number(d)) === pgid) out.push(Number(d));
  }
  return out;
}
