/**
 * Process-ID limits and use (upstream pkg/kubelet/cm/pidlimit Stats): the node's PID capacity is
 * min(kernel.pid_max, kernel.threads-max); tasks in use is the total field of /proc/loadavg
 * (sysinfo's count truncates above 65538). Read from /proc directly: systeminformation has no
 * such reading, and it must be cheap enough for every eviction round.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

async function readNumber(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** min(pid_max, threads-max); undefined when neither is readable. */
export async function maxPids(procRoot = '/proc'): Promise<number | undefined> {
  const values = (
    await Promise.all([
      readNumber(join(procRoot, 'sys/kernel/pid_max')),
      readNumber(join(procRoot, 'sys/kernel/threads-max')),
    ])
  ).filter((v): v is number => v !== undefined);
  return values.length > 0 ? Math.min(...values) : undefined;
}

/** The number of tasks on the node: 'a b c running/total last' → total. */
export async function runningTasks(procRoot = '/proc'): Promise<number | undefined> {
  try {
    const f = (await readFile(join(procRoot, 'loadavg'), 'utf8')).trim().split(/\s+/)[3];
    const n = Number(f?.split('/')[1]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
