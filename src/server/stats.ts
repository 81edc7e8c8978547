import type { Pod } from '../api/types.js';
import type { CriClient } from '../cri/client.js';
import { nanosToMs } from '../cri/convert.js';
import type { FsUsage } from '../host/procStats.js';

/** What the stats endpoint needs from the rest of the kubelet (wired in main.ts). */
export interface StatsSources {
  nodeName: string;
  nodeStartTime: string;
  cri: CriClient;
  pods: () => Pod[];
  nodeUsage: () => Promise<{
    cpuUsageCoreNanoSeconds: number;
    memoryUsageBytes: number;
    memoryWorkingSetBytes: number;
    memoryAvailableBytes: number;
    memoryRssBytes: number;
  }>;
  rootFs: () => Promise<FsUsage>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * /stats/summary (statsapi.Summary, the shape metrics-server and `kubectl top` read): node CPU
 * and memory from /proc, filesystems from statfs and the CRI's ImageFsInfo, per-container CPU
 * and memory from the CRI's ListContainerStats. usageNanoCores of the node is the rate since
 * the previous call.
 */
export class StatsProvider {
  private prevNode: { at: number; cpu: number } | undefined;

  constructor(private readonly s: StatsSources) {}

  async summary(onlyCpuAndMemory = false): Promise<unknown> {
    const now = Date.now();
    const [usage, rootFs, stats, imageFs] = await Promise.all([
      this.s.nodeUsage(),
      this.s.rootFs(),
      this.s.cri.listContainerStats(undefined, { timeoutMs: 10_000 }),
      this.s.cri.imageFsInfo({ timeoutMs: 10_000 }).catch(() => undefined),
    ]);
    let usageNanoCores: number | undefined;
    if (this.prevNode && now > this.prevNode.at) {
      usageNanoCores = Math.round(
        ((usage.cpuUsageCoreNanoSeconds - this.prevNode.cpu) * 1e6) / (now - this.prevNode.at) / 1e3,
      );
    }
    this.prevNode = { at: now, cpu: usage.cpuUsageCoreNanoSeconds };
    const time = iso(now);
    const node: Record<string, unknown> = {
      nodeName: this.s.nodeName,
      startTime: this.s.nodeStartTime,
      cpu: {
        time,
        usageCoreNanoSeconds: Math.round(usage.cpuUsageCoreNanoSeconds),
        ...(usageNanoCores !== undefined ? { usageNanoCores } : {}),
      },
      memory: {
        time,
        availableBytes: usage.memoryAvailableBytes,
        usageBytes: usage.memoryUsageBytes,
        workingSetBytes: usage.memoryWorkingSetBytes,
        rssBytes: usage.memoryRssBytes,
      },
    };
    if (!onlyCpuAndMemory) {
      node.fs = { time, ...rootFs };
      const img = imageFs?.imageFilesystems[0];
      if (img) {
        node.runtime = {
          imageFs: {
            time,
            usedBytes: Number(img.usedBytes?.value ?? 0),
            inodesUsed: Number(img.inodesUsed?.value ?? 0),
            capacityBytes: rootFs.capacityBytes,
            availableBytes: rootFs.availableBytes,
          },
        };
      }
    }

    const byPod = new Map<string, typeof stats>();
    for (const cs of stats) {
      const uid = cs.attributes?.labels['io.kubernetes.pod.uid'];
      if (!uid) continue;
      const list = byPod.get(uid) ?? [];
      list.push(cs);
      byPod.set(uid, list);
    }
    const pods = this.s.pods().flatMap((p) => {
      const uid = p.metadata?.uid ?? '';
      const list = byPod.get(uid);
      if (!list) return [];
      let cpuNano = 0;
      let cpuCore = 0;
      let ws = 0;
      let memUsage = 0;
      let rss = 0;
      const containers = list
        .filter((cs) => cs.cpu || cs.memory)
        .map((cs) => {
          const cpuT = cs.cpu ? iso(nanosToMs(cs.cpu.timestamp)) : time;
          const nano = Number(cs.cpu?.usageNanoCores?.value ?? 0);
          const core = Number(cs.cpu?.usageCoreNanoSeconds?.value ?? 0);
          const w = Number(cs.memory?.workingSetBytes?.value ?? 0);
          const u = Number(cs.memory?.usageBytes?.value ?? 0);
          const r = Number(cs.memory?.rssBytes?.value ?? 0);
          cpuNano += nano;
          cpuCore += core;
          ws += w;
          memUsage += u;
          rss += r;
          return {
            name: cs.attributes?.metadata?.name ?? '',
            startTime: p.status?.startTime ?? time,
            cpu: { time: cpuT, usageNanoCores: nano, usageCoreNanoSeconds: core },
            memory: {
              time: cs.memory ? iso(nanosToMs(cs.memory.timestamp)) : time,
              workingSetBytes: w,
              usageBytes: u,
              rssBytes: r,
              pageFaults: Number(cs.memory?.pageFaults?.value ?? 0),
              majorPageFaults: Number(cs.memory?.majorPageFaults?.value ?? 0),
            },
            ...(onlyCpuAndMemory
              ? {}
              : {
                  rootfs: {
                    time,
                    usedBytes: Number(cs.writableLayer?.usedBytes?.value ?? 0),
                    inodesUsed: Number(cs.writableLayer?.inodesUsed?.value ?? 0),
                  },
                }),
          };
        });
      return [
        {
          podRef: { name: p.metadata?.name, namespace: p.metadata?.namespace, uid },
          startTime: p.status?.startTime ?? time,
          containers,
          cpu: { time, usageNanoCores: cpuNano, usageCoreNanoSeconds: cpuCore },
          memory: { time, workingSetBytes: ws, usageBytes: memUsage, rssBytes: rss },
        },
      ];
    });
    return { node, pods };
  }
}
