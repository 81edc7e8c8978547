import type { ContainerStats } from '../gen/runtime/v1/ContainerStats.js';
import type { PodSandboxStats } from '../gen/runtime/v1/PodSandboxStats.js';
import type { StatsSpec } from './behaviours.js';
import { nowNs } from './clock.js';
import { IMAGE_FS_MOUNTPOINT } from './images.js';
import type { ContainerRecord, SandboxRecord } from './state.js';

const DEFAULT_WORKING_SET = 1_048_576;
const u64 = (n: number | bigint) => ({ value: String(n) });

/**
 * A container's stats as containerd reports them: cpu and memory only while it runs (null
 * otherwise), the writable layer always. Defaults: 1 MiB working set, 10 ms + 0.1% of a core
 * of CPU time since start; `spec` overrides.
 */
export function containerStats(c: ContainerRecord, spec: StatsSpec | undefined): ContainerStats {
  const ts = nowNs();
  const running = c.state === 'CONTAINER_RUNNING';
  const cpuNs = spec?.cpuUsageCoreNanoSeconds ?? 10_000_000 + Number((ts - c.startedAt) / 1000n);
  const memory = spec?.memoryWorkingSetBytes ?? DEFAULT_WORKING_SET;
  return {
    attributes: {
      id: c.id,
      metadata: c.config.metadata,
      labels: c.config.labels,
      annotations: c.config.annotations,
    },
    cpu: running
      ? { timestamp: String(ts), usageCoreNanoSeconds: u64(cpuNs), usageNanoCores: u64(0), psi: null }
      : null,
    memory: running
      ? {
          timestamp: String(ts),
          workingSetBytes: u64(memory),
          availableBytes: u64(0),
          usageBytes: u64(memory),
          rssBytes: u64(Math.floor(memory / 8)),
          pageFaults: u64(1000),
          majorPageFaults: u64(0),
          psi: null,
        }
      : null,
    writableLayer: {
      timestamp: '0',
      fsId: { mountpoint: IMAGE_FS_MOUNTPOINT },
      usedBytes: u64(spec?.writableLayerBytes ?? 0),
      inodesUsed: u64(0),
    },
    swap: null,
    io: null,
  };
}

/** A sandbox's stats: the sums over its running containers, plus each container's stats. */
export function sandboxStats(
  s: SandboxRecord,
  containers: readonly { record: ContainerRecord; stats: ContainerStats }[],
): PodSandboxStats {
  const ts = String(nowNs());
  let cpu = 0n;
  let mem = 0n;
  for (const { stats } of containers) {
    cpu += BigInt(String(stats.cpu?.usageCoreNanoSeconds?.value ?? 0));
    mem += BigInt(String(stats.memory?.workingSetBytes?.value ?? 0));
  }
  return {
    attributes: {
      id: s.id,
      metadata: s.config.metadata,
      labels: s.config.labels,
      annotations: s.config.annotations,
    },
    linux: {
      cpu: { timestamp: ts, usageCoreNanoSeconds: u64(cpu), usageNanoCores: u64(0) },
      memory: { timestamp: ts, workingSetBytes: u64(mem), usageBytes: u64(mem) },
      network: null,
      process: null,
      containers: containers.map((c) => c.stats),
      io: null,
    },
    windows: null,
  };
}
