/** Resource use of a running process, read from /proc (Linux only). */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** USER_HZ: the unit of the CPU times in /proc/<pid>/stat (100 on Linux/x86). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds a process consumed so far: utime + stime, plus cutime + cstime (children it
 * waited for, e.g. the `mount` the upstream kubelet runs for tmpfs volumes).
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime..cstime are fields 14..17.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return ticks / ticksPerSecond();
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The PID in a PID file of hack/ (RUN_DIR/NAME.pid); throws when it is missing, not running, or
 * (with `expectInCmdline`) not the program it should be.
 */
export function pidFromFile(path: string, expectInCmdline?: string): number {
  if (!existsSync(path)) throw new Error(`no PID file ${path}`);
  const pid = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) {
    throw new Error(`${path}: process ${pid} is not running`);
  }
  if (expectInCmdline) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    if (!cmdline.includes(expectInCmdline)) {
      throw new Error(`${path}: pid ${pid} runs "${cmdline}", not ${expectInCmdline}`);
    }
  }
  return pid;
}

/** The 1-minute load average and the number of CPUs, as `uptime` shows them. */
export function machineLoad(): { load1: number; load5: number; load15: number } {
  const [load1, load5, load15] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return { load1: load1 ?? Number.NaN, load5: load5 ?? Number.NaN, load15: load15 ?? Number.NaN };
}
