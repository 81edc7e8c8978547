/**
 * PURE: eviction signals from raw readings (upstream makeSignalObservations in
 * pkg/kubelet/eviction/helpers.go, cadvisor's working set, runc's cgroup v2 root memory stats).
 */
import type { EvictionSignal, MemoryStats, Observation, Summary } from './types.js';

/** memory.stat ('anon 123\nfile 456\n...') → numbers. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out.set(k, n);
  }
  return out;
}

/** Working set = usage − inactive_file, never negative (cadvisor). */
export function workingSet(usage: number, inactiveFile: number): number {
  return usage < inactiveFile ? 0 : usage - inactiveFile;
}

/**
 * The node's memory on cgroup v2, from the root cgroup's memory.stat: the root has no
 * memory.current, so usage = anon + file (runc's rootStatsFromMeminfo); available = capacity −
 * working set (the root container's limit is the machine's memory).
 */
export function nodeMemoryV2(memoryStat: string, capacityBytes: number, time: number): MemoryStats {
  const s = parseKeyValues(memoryStat);
  const usage = (s.get('anon') ?? 0) + (s.get('file') ?? 0);
  const ws = workingSet(usage, s.get('inactive_file') ?? 0);
  return { workingSetBytes: ws, availableBytes: Math.max(0, capacityBytes - ws), time };
}

/** cgroup v1 root: memory.usage_in_bytes − total_inactive_file. */
export function nodeMemoryV1(
  usageInBytes: number,
  memoryStat: string,
  capacityBytes: number,
  time: number,
): MemoryStats {
  const s = parseKeyValues(memoryStat);
  const ws = workingSet(usageInBytes, s.get('total_inactive_file') ?? 0);
  return { workingSetBytes: ws, availableBytes: Math.max(0, capacityBytes - ws), time };
}

/**
 * A non-root cgroup v2 (the pods cgroup): working set = memory.current − inactive_file,
 * available = limit − working set, where the limit is memory.max or, if "max", the node capacity.
 */
export function cgroupMemoryV2(
  memoryCurrent: number,
  memoryStat: string,
  memoryMax: string | undefined,
  capacityBytes: number,
  time: number,
): MemoryStats {
  const ws = workingSet(memoryCurrent, parseKeyValues(memoryStat).get('inactive_file') ?? 0);
  const limit = memoryMax && memoryMax !== 'max' ? Number(memoryMax) : capacityBytes;
  return { workingSetBytes: ws, availableBytes: Math.max(0, limit - ws), time };
}

export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Cumulative stall time in µs. */
  total: number;
}

/** A PSI file (memory.pressure, /proc/pressure/memory) → its 'some' and 'full' lines. */
export function parsePressure(text: string): { some?: PressureLine; full?: PressureLine } {
  const out: { some?: PressureLine; full?: PressureLine } = {};
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const v = new Map(fields.map((f) => f.split('=') as [string, string]));
    out[kind] = {
      avg10: Number(v.get('avg10') ?? 0),
      avg60: Number(v.get('avg60') ?? 0),
      avg300: Number(v.get('avg300') ?? 0),
      total: Number(v.get('total') ?? 0),
    };
  }
  return out;
}

/** Upstream makeSignalObservations: every signal the summary has data for. */
export function makeSignalObservations(summary: Summary): Map<EvictionSignal, Observation> {
  const out = new Map<EvictionSignal, Observation>();
  const n = summary.node;
  const mem = (m: MemoryStats): Observation => ({
    available: m.availableBytes,
    capacity: m.availableBytes + m.workingSetBytes,
    time: m.time,
  });
  if (n.memory) out.set('memory.available', mem(n.memory));
  if (n.allocatableMemory) out.set('allocatableMemory.available', mem(n.allocatableMemory));
  const fsSignals = [
    [n.fs, 'nodefs.available', 'nodefs.inodesFree'],
    [n.imageFs, 'imagefs.available', 'imagefs.inodesFree'],
    [n.containerFs, 'containerfs.available', 'containerfs.inodesFree'],
  ] as const;
  for (const [fs, bytes, inodes] of fsSignals) {
    if (!fs) continue;
    out.set(bytes, { available: fs.availableBytes, capacity: fs.capacityBytes, time: fs.time });
    if (fs.inodesFree !== undefined && fs.inodes !== undefined) {
      out.set(inodes, { available: fs.inodesFree, capacity: fs.inodes, time: fs.time });
    }
  }
  if (n.rlimit) {
    out.set('pid.available', {
      available: n.rlimit.maxPid - n.rlimit.runningProcesses,
      capacity: n.rlimit.maxPid,
      time: n.rlimit.time,
    });
  }
  return out;
}
