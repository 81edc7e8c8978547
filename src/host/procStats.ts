import { readFile, statfs } from 'node:fs/promises';

export interface NodeUsage {
  /** Cumulative CPU time of the machine (all cores), ns. */
  cpuUsageCoreNanoSeconds: number;
  memoryTotalBytes: number;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
  memoryAvailableBytes: number;
  memoryRssBytes: number;
}

const USER_HZ = 100;

/**
 * Machine-wide CPU and memory from /proc (what cadvisor reports for the root container on a
 * host whose memory cgroup we must not read: this host's cgroups belong to its supervisor).
 * working set = usage − inactive_file, as upstream computes it.
 */
export async function nodeUsage(): Promise<NodeUsage> {
  const [stat, meminfo] = await Promise.all([
    readFile('/proc/stat', 'utf8'),
    readFile('/proc/meminfo', 'utf8'),
  ]);
  const cpu = stat.split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal
  const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0) + (cpu[7] ?? 0);
  const mem = new Map<string, number>();
  for (const line of meminfo.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)/.exec(line);
    if (m) mem.set(m[1]!, Number(m[2]) * 1024);
  }
  const total = mem.get('MemTotal') ?? 0;
  const usage = total - (mem.get('MemFree') ?? 0);
  const workingSet = Math.max(0, usage - (mem.get('Inactive(file)') ?? 0));
  return {
    cpuUsageCoreNanoSeconds: (busy * 1e9) / USER_HZ,
    memoryTotalBytes: total,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: workingSet,
    memoryAvailableBytes: Math.max(0, total - workingSet),
    memoryRssBytes: mem.get('AnonPages') ?? 0,
  };
}

export interface FsUsage {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  inodes: number;
  inodesFree: number;
  inodesUsed: number;
}

export async function fsUsage(path: string): Promise<FsUsage> {
  const s = await statfs(path);
  const capacityBytes = s.blocks * s.bsize;
  const availableBytes = s.bavail * s.bsize;
  return {
    capacityBytes,
    availableBytes,
    usedBytes: (s.blocks - s.bfree) * s.bsize,
    inodes: s.files,
    inodesFree: s.ffree,
    inodesUsed: s.files - s.ffree,
  };
}
