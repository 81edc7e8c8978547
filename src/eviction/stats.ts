/**
 * Collects what the eviction manager observes (upstream's stats summary, only the parts eviction
 * reads): node memory from the root cgroup (cgroup v2 memory.stat; v1 memory.usage_in_bytes),
 * the pods cgroup's memory for allocatableMemory.available, nodefs from statfs of the kubelet
 * root dir, imagefs from the runtime's ImageFsInfo mount point, PIDs from /proc, and per-pod
 * usage from the CRI (ListPodSandboxStats, else ListContainerStats).
 */
import { readdir, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { CgroupFs } from '../cgroups/cgroupfs.js';
import type { CriClient } from '../cri/client.js';
import { maxPids, runningTasks } from '../host/pids.js';
import { cgroupMemoryV2, nodeMemoryV1, nodeMemoryV2 } from './signals.js';
import type {
  ContainerUsage,
  FsStats,
  MemoryStats,
  NodeStats,
  PodUsage,
  RlimitStats,
  Summary,
} from './types.js';

export type StatsCri = Pick<CriClient, 'listPodSandboxStats' | 'listContainerStats' | 'imageFsInfo'>;

export interface StatsCollectorOptions {
  cri: StatsCri;
  /**
   * The cgroup v2 hierarchy (root = its mount) when the node runs cgroup v2; undefined on v1 or
   * hybrid hosts, where `memoryV1Root` is read instead.
   */
  cgroupV2?: CgroupFs;
  /** cgroup v1 memory controller mount (default /sys/fs/cgroup/memory); read only. */
  memoryV1Root?: CgroupFs;
  /** The pods cgroup as a path below the v2 mount ('/kubepods', '/kubepods.slice'); '' = none. */
  podsCgroupPath?: string;
  /** The kubelet root dir: its filesystem is nodefs. */
  rootDir: string;
  /** podLogsDir, to count container logs as ephemeral storage; undefined = not measured. */
  podLogsDir?: string;
  memoryCapacityBytes: number;
  /** Process counts per pod UID when the runtime reports none (the pod cgroups' pids.current). */
  podProcesses?: () => Promise<ReadonlyMap<string, number>>;
  procRoot?: string;
  now?: () => number;
}

const u64 = (v: { value: string } | null | undefined): number | undefined =>
  v ? Number(v.value) : undefined;

async function statfsNearest(path: string): Promise<Awaited<ReturnType<typeof statfs>>> {
  let current = resolve(path);
  for (;;) {
    try {
      return await statfs(current);
    } catch (e) {
      const parent = dirname(current);
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw e;
      current = parent;
    }
  }
}

async function dirBytes(dir: string): Promise<number | undefined> {
  try {
    let total = 0;
    for (const f of await readdir(dir)) total += (await stat(join(dir, f)).catch(() => ({ size: 0 }))).size;
    return total;
  } catch {
    return undefined;
  }
}

export class StatsCollector {
  private readonly now: () => number;
  private pidMax: number | undefined | null = null;

  constructor(private readonly o: StatsCollectorOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Node memory only: the cheap reading the pressure monitor polls. */
  async nodeMemory(): Promise<MemoryStats | undefined> {
    const time = this.now();
    const cap = this.o.memoryCapacityBytes;
    if (this.o.cgroupV2) {
      const text = await this.o.cgroupV2.read('/', 'memory.stat').catch(() => undefined);
      return text === undefined ? undefined : nodeMemoryV2(text, cap, time);
    }
    const v1 = this.o.memoryV1Root;
    if (!v1) return undefined;
    const [usage, text] = await Promise.all([
      v1.read('/', 'memory.usage_in_bytes').catch(() => undefined),
      v1.read('/', 'memory.stat').catch(() => undefined),
    ]);
    if (usage === undefined || text === undefined) return undefined;
    return nodeMemoryV1(Number(usage), text, cap, time);
  }

  private async allocatableMemory(): Promise<MemoryStats | undefined> {
    const fs = this.o.cgroupV2;
    const path = this.o.podsCgroupPath;
    if (!fs || !path) return undefined;
    const time = this.now();
    const [current, text, max] = await Promise.all([
      fs.read(path, 'memory.current').catch(() => undefined),
      fs.read(path, 'memory.stat').catch(() => undefined),
      fs.read(path, 'memory.max').catch(() => undefined),
    ]);
    if (current === undefined || text === undefined) return undefined;
    return cgroupMemoryV2(Number(current), text, max, this.o.memoryCapacityBytes, time);
  }

  private async fsStats(path: string): Promise<FsStats | undefined> {
    try {
      const s = await statfsNearest(path);
      return {
        availableBytes: Number(s.bavail) * Number(s.bsize),
        capacityBytes: Number(s.blocks) * Number(s.bsize),
        inodesFree: Number(s.ffree),
        inodes: Number(s.files),
        time: this.now(),
      };
    } catch {
      return undefined;
    }
  }

  private async imageFs(signal?: AbortSignal): Promise<FsStats | undefined> {
    try {
      const info = await this.o.cri.imageFsInfo({ signal, timeoutMs: 10_000 });
      const mount = info.imageFilesystems[0]?.fsId?.mountpoint;
      return mount ? await this.fsStats(mount) : undefined;
    } catch {
      return undefined;
    }
  }

  private async rlimit(): Promise<RlimitStats | undefined> {
    const procRoot = this.o.procRoot ?? '/proc';
    if (this.pidMax === null) this.pidMax = await maxPids(procRoot);
    const running = await runningTasks(procRoot);
    if (this.pidMax === undefined || running === undefined) return undefined;
    return { maxPid: this.pidMax, runningProcesses: running, time: this.now() };
  }

  /** Per-pod usage from the runtime, keyed by pod UID. */
  async podUsage(signal?: AbortSignal): Promise<PodUsage[]> {
    const byUid = new Map<string, PodUsage>();
    const logDirs = new Map<string, string>();
    const get = (uid: string) => {
      let p = byUid.get(uid);
      if (!p) {
        p = { uid, containers: [] };
        byUid.set(uid, p);
      }
      return p;
    };
    const container = (c: Awaited<ReturnType<StatsCri['listContainerStats']>>[number]): ContainerUsage => ({
      name: c.attributes?.metadata?.name ?? '',
      memoryWorkingSetBytes: u64(c.memory?.workingSetBytes),
      rootfsUsedBytes: u64(c.writableLayer?.usedBytes),
      rootfsInodesUsed: u64(c.writableLayer?.inodesUsed),
    });
    try {
      const sandboxes = await this.o.cri.listPodSandboxStats(undefined, { signal, timeoutMs: 10_000 });
      for (const s of sandboxes) {
        const md = s.attributes?.metadata;
        if (!md?.uid) continue;
        const p = get(md.uid);
        logDirs.set(md.uid, `${md.namespace}_${md.name}_${md.uid}`);
        const lin = s.linux;
        const ws = u64(lin?.memory?.workingSetBytes);
        const cs = (lin?.containers ?? []).map(container);
        if (ws !== undefined) p.memoryWorkingSetBytes = (p.memoryWorkingSetBytes ?? 0) + ws;
        else if (cs.length > 0) {
          p.memoryWorkingSetBytes =
            (p.memoryWorkingSetBytes ?? 0) + cs.reduce((n, c) => n + (c.memoryWorkingSetBytes ?? 0), 0);
        }
        const procs = u64(lin?.process?.processCount);
        if (procs !== undefined) p.processCount = (p.processCount ?? 0) + procs;
        p.containers.push(...cs);
      }
    } catch {
      // Runtimes without ListPodSandboxStats: sum the containers.
      const stats = await this.o.cri.listContainerStats(undefined, { signal, timeoutMs: 10_000 });
      for (const c of stats) {
        const labels = c.attributes?.labels ?? {};
        const uid = labels['io.kubernetes.pod.uid'];
        if (!uid) continue;
        const p = get(uid);
        const cu = container(c);
        p.containers.push(cu);
        p.memoryWorkingSetBytes = (p.memoryWorkingSetBytes ?? 0) + (cu.memoryWorkingSetBytes ?? 0);
        const ns = labels['io.kubernetes.pod.namespace'];
        const name = labels['io.kubernetes.pod.name'];
        if (ns && name) logDirs.set(uid, `${ns}_${name}_${uid}`);
      }
    }
    if (this.o.podLogsDir) {
      for (const p of byUid.values()) {
        const dir = logDirs.get(p.uid);
        for (const c of p.containers) {
          c.logsUsedBytes = dir ? ((await dirBytes(join(this.o.podLogsDir, dir, c.name))) ?? 0) : 0;
        }
      }
    }
    const counts = this.o.podProcesses ? await this.o.podProcesses().catch(() => undefined) : undefined;
    for (const [uid, n] of counts ?? []) {
      const p = byUid.get(uid);
      if (p && p.processCount === undefined) p.processCount = n;
    }
    return [...byUid.values()];
  }

  /** One full collection. Parts that cannot be read are left out (their signals go unobserved). */
  async summary(signal?: AbortSignal): Promise<Summary> {
    const [memory, allocatableMemory, fs, imageFs, rlimit, pods] = await Promise.all([
      this.nodeMemory().catch(() => undefined),
      this.allocatableMemory().catch(() => undefined),
      this.fsStats(this.o.rootDir),
      this.imageFs(signal),
      this.rlimit().catch(() => undefined),
      this.podUsage(signal).catch(() => [] as PodUsage[]),
    ]);
    const node: NodeStats = {};
    if (memory) node.memory = memory;
    if (allocatableMemory) node.allocatableMemory = allocatableMemory;
    if (fs) node.fs = fs;
    if (imageFs) node.imageFs = imageFs;
    if (rlimit) node.rlimit = rlimit;
    return { node, pods };
  }
}
