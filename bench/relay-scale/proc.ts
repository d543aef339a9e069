import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// What the scale benchmarks read about processes from Linux: CPU time and
// resident memory from /proc, a CPU quota from the cgroup cpu controller,
// and a raised open-file limit (prlimit). Each says when it cannot.

/** Clock ticks per second of /proc/<pid>/stat times. */
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * User + system CPU milliseconds a process has used (0 if it is gone); with
 * `reaped`, also that of its children that exited and were waited for; with
 * `systemOnly`, only the kernel's share (syscalls: sockets, WAL writes and fsyncs).
 */
export function cpuMs(pid: number, reaped = false, systemOnly = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime, stime, cutime, cstime are the 12th to 15th.
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const own = (systemOnly ? 0 : fields[11]!) + fields[12]!;
    const children = (systemOnly ? 0 : fields[13]!) + fields[14]!;
    return ((reaped ? own + children : own) * 1000) / TICKS;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in KiB (VmRSS), or 0 if it is gone. */
export function rssKiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The process and its direct children (PostgreSQL: the postmaster and its backends). */
export function processTree(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid)
        children.push(Number(entry));
    } catch {
      // Exited while listing.
    }
  }
  return [pid, ...children];
}

/**
 * CPU milliseconds of a process tree, for deltas: the live children's own
 * time plus the root's with its reaped children (a PostgreSQL backend that
 * exits between two readings moves from the first sum to the second, instead
 * of vanishing and making the delta negative).
 */
export function treeCpuMs(pid: number, systemOnly = false): number {
  const [root, ...children] = processTree(pid);
  return children.reduce(
    (sum, p) => sum + cpuMs(p, false, systemOnly),
    cpuMs(root!, true, systemOnly),
  );
}

/**
 * CPU milliseconds of a process's direct children by kind, the command line's
 * first word after "postgres: " for PostgreSQL ("walwriter", "autovacuum", or
 * the user name for a backend), plus "postmaster" for the root and its reaped children.
 */
export function childCpuByKind(pid: number): Map<string, number> {
  const [root, ...children] = processTree(pid);
  const kinds = new Map<string, number>([['postmaster', cpuMs(root!, true)]]);
  for (const child of children) {
    let kind = 'other';
    try {
      const line = readFileSync(`/proc/${child}/cmdline`, 'utf8').replace(/\0/g, ' ');
      kind = /postgres: (\w+)/.exec(line)?.[1] ?? 'other';
    } catch {
      // Exited while listing: its time is the postmaster's now.
    }
    kinds.set(kind, (kinds.get(kind) ?? 0) + cpuMs(child));
  }
  return kinds;
}

/** Raises a process's open-file limit (soft and hard) with prlimit; false if not allowed. */
export function raiseFileLimit(pid: number, files: number): boolean {
  try {
    execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${files}:${files}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const CGROUP_V1_CPU = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

/** A CPU quota (a share of one core) that processes can be put under. */
export interface CpuQuota {
  /** Which cgroup interface the quota uses. */
  readonly kind: 'cgroup v1 cpu' | 'cgroup v2 cpu.max';
  add(pid: number): void;
  /** Moves any member back to the root group and deletes the group. */
  remove(): void;
}

/**
 * A cgroup limiting its members to `share` of one core (cfs quota per 100 ms),
 * on the v1 cpu controller or the v2 unified hierarchy; undefined when
 * neither is writable here (then there is no honest equivalent: taskset and
 * nice do not cap a process to a share).
 */
export function cpuQuota(name: string, share: number): CpuQuota | undefined {
  const quota = Math.round(PERIOD_US * share);
  const candidates = [
    {
      kind: 'cgroup v1 cpu' as const,
      root: CGROUP_V1_CPU,
      limit: (dir: string) => {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
      },
    },
    {
      kind: 'cgroup v2 cpu.max' as const,
      root: '/sys/fs/cgroup/unified',
      limit: (dir: string) => writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`),
    },
  ];
  for (const { kind, root, limit } of candidates) {
    const dir = join(root, name);
    try {
      mkdirSync(dir, { recursive: true });
      limit(dir);
      return {
        kind,
        add: (pid) => writeFileSync(join(dir, 'cgroup.procs'), String(pid)),
        remove: () => {
          for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
            if (pid !== '') writeFileSync(join(root, 'cgroup.procs'), pid);
          rmdirSync(dir);
        },
      };
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // Never created.
      }
    }
  }
  return undefined;
}
