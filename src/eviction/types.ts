/** The eviction manager's data: what it observes of the node and its pods (upstream's stats summary, reduced). */
import type { EvictionSignal, EvictionThreshold } from '../config/types.js';

export type { EvictionSignal, EvictionThreshold };

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

/** The resource a signal reclaims (upstream signalToResource): also the word in messages. */
export type ReclaimResource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';

export interface MemoryStats {
  availableBytes: number;
  workingSetBytes: number;
  /** When it was read (epoch ms). */
  time: number;
}

export interface FsStats {
  availableBytes: number;
  capacityBytes: number;
  inodesFree?: number;
  inodes?: number;
  time: number;
}

export interface RlimitStats {
  /** min(kernel.pid_max, kernel.threads-max). */
  maxPid: number;
  /** Tasks on the node (the total in /proc/loadavg). */
  runningProcesses: number;
  time: number;
}

export interface NodeStats {
  memory?: MemoryStats;
  /** The pods cgroup (kubepods), for allocatableMemory.available. */
  allocatableMemory?: MemoryStats;
  fs?: FsStats;
  imageFs?: FsStats;
  containerFs?: FsStats;
  rlimit?: RlimitStats;
}

export interface ContainerUsage {
  name: string;
  memoryWorkingSetBytes?: number;
  /** Writable layer. */
  rootfsUsedBytes?: number;
  rootfsInodesUsed?: number;
  logsUsedBytes?: number;
}

export interface PodUsage {
  uid: string;
  memoryWorkingSetBytes?: number;
  processCount?: number;
  containers: ContainerUsage[];
}

/** One stats collection: the node and every pod the runtime reports. */
export interface Summary {
  node: NodeStats;
  pods: PodUsage[];
}

/** What a signal looks like now (upstream signalObservation). */
export interface Observation {
  available: number;
  capacity: number;
  time: number;
}

export type Observations = ReadonlyMap<EvictionSignal, Observation>;

/** Finds a pod's usage (upstream statsFunc); undefined = no stats for it. */
export type StatsFunc = (uid: string) => PodUsage | undefined;
