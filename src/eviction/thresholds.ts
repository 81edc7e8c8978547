/**
 * PURE: thresholds against observations (upstream pkg/kubelet/eviction/helpers.go: thresholdsMet,
 * mergeThresholds, thresholdsFirstObservedAt, thresholdsMetGracePeriod, nodeConditions,
 * nodeConditionsLastObservedAt, nodeConditionsObservedSince, thresholdsUpdatedStats,
 * byEvictionPriority, getReclaimableThreshold).
 */
import type { ThresholdValue } from '../config/types.js';
import type {
  EvictionSignal,
  EvictionThreshold,
  Observations,
  PressureCondition,
  ReclaimResource,
} from './types.js';

export const SIGNAL_TO_RESOURCE: Readonly<Partial<Record<EvictionSignal, ReclaimResource>>> = {
  'memory.available': 'memory',
  'allocatableMemory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'imagefs.available': 'ephemeral-storage',
  'containerfs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.inodesFree': 'inodes',
  'containerfs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

export const SIGNAL_TO_CONDITION: Readonly<Record<EvictionSignal, PressureCondition>> = {
  'memory.available': 'MemoryPressure',
  'allocatableMemory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'containerfs.available': 'DiskPressure',
  'containerfs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

/** Condition order in messages and flags (upstream iterates a map; we keep a fixed order). */
export const CONDITION_ORDER: readonly PressureCondition[] = [
  'MemoryPressure',
  'DiskPressure',
  'PIDPressure',
];

export const isHardThreshold = (t: EvictionThreshold) => t.gracePeriodMs === 0;

/**
 * Upstream GetThresholdQuantity: the quantity, or int64(capacity × percentage) — upstream keeps
 * percentages as float32, so 10% is 0.10000000149, not 0.1.
 */
export function thresholdQuantity(value: ThresholdValue, capacity: number): number {
  return 'quantity' in value ? value.quantity : Math.trunc(capacity * Math.fround(value.percentage));
}

/**
 * Upstream thresholdsMet: thresholds whose quantity (plus minimum reclaim when
 * `enforceMinReclaim`) exceeds what is available; signals without observation are skipped.
 */
export function thresholdsMet(
  thresholds: readonly EvictionThreshold[],
  observations: Observations,
  enforceMinReclaim: boolean,
): EvictionThreshold[] {
  return thresholds.filter((t) => {
    const o = observations.get(t.signal);
    if (!o) return false;
    let q = thresholdQuantity(t.value, o.capacity);
    if (enforceMinReclaim && t.minReclaim) q += thresholdQuantity(t.minReclaim, o.capacity);
    return q > o.available;
  });
}

function sameThreshold(a: EvictionThreshold, b: EvictionThreshold): boolean {
  return (
    a.signal === b.signal &&
    a.operator === b.operator &&
    a.gracePeriodMs === b.gracePeriodMs &&
    JSON.stringify(a.value) === JSON.stringify(b.value)
  );
}

/** Upstream mergeThresholds: the union, without duplicates. */
export function mergeThresholds(
  a: readonly EvictionThreshold[],
  b: readonly EvictionThreshold[],
): EvictionThreshold[] {
  const out = [...a];
  for (const t of b) if (!out.some((x) => sameThreshold(x, t))) out.push(t);
  return out;
}

export type FirstObserved = readonly { threshold: EvictionThreshold; at: number }[];

/** Upstream thresholdsFirstObservedAt: keeps the earlier time of thresholds still met. */
export function thresholdsFirstObservedAt(
  thresholds: readonly EvictionThreshold[],
  last: FirstObserved,
  now: number,
): FirstObserved {
  return thresholds.map((t) => ({
    threshold: t,
    at: last.find((x) => sameThreshold(x.threshold, t))?.at ?? now,
  }));
}

/** Upstream thresholdsMetGracePeriod: thresholds met for at least their grace period. */
export function thresholdsMetGracePeriod(observedAt: FirstObserved, now: number): EvictionThreshold[] {
  return observedAt.filter((x) => now - x.at >= x.threshold.gracePeriodMs).map((x) => x.threshold);
}

/** Upstream nodeConditions: the pressure conditions the thresholds imply, in CONDITION_ORDER. */
export function nodeConditions(thresholds: readonly EvictionThreshold[]): PressureCondition[] {
  const set = new Set(thresholds.map((t) => SIGNAL_TO_CONDITION[t.signal]));
  return CONDITION_ORDER.filter((c) => set.has(c));
}

export type ConditionTimes = ReadonlyMap<PressureCondition, number>;

/** Upstream nodeConditionsLastObservedAt: stamps the current conditions with `now`. */
export function nodeConditionsLastObservedAt(
  conditions: readonly PressureCondition[],
  last: ConditionTimes,
  now: number,
): Map<PressureCondition, number> {
  const out = new Map(last);
  for (const c of conditions) out.set(c, now);
  return out;
}

/** Upstream nodeConditionsObservedSince: conditions seen within the transition period. */
export function nodeConditionsObservedSince(
  observedAt: ConditionTimes,
  periodMs: number,
  now: number,
): PressureCondition[] {
  return CONDITION_ORDER.filter((c) => {
    const at = observedAt.get(c);
    return at !== undefined && now - at < periodMs;
  });
}

/** Upstream thresholdsUpdatedStats: thresholds whose observation is newer than the last round's. */
export function thresholdsUpdatedStats(
  thresholds: readonly EvictionThreshold[],
  observations: Observations,
  last: Observations,
): EvictionThreshold[] {
  return thresholds.filter((t) => {
    const o = observations.get(t.signal);
    if (!o) return false;
    const prev = last.get(t.signal);
    return !prev || o.time === 0 || o.time > prev.time;
  });
}

/** Upstream byEvictionPriority: memory signals first, signals without a resource last (stable). */
export function sortByEvictionPriority(thresholds: readonly EvictionThreshold[]): EvictionThreshold[] {
  const rank = (t: EvictionThreshold) =>
    t.signal === 'memory.available' || t.signal === 'allocatableMemory.available'
      ? 0
      : SIGNAL_TO_RESOURCE[t.signal]
        ? 1
        : 2;
  return [...thresholds].sort((a, b) => rank(a) - rank(b));
}

/** Upstream getReclaimableThreshold: the first threshold with a resource to reclaim. */
export function reclaimableThreshold(
  thresholds: readonly EvictionThreshold[],
): { threshold: EvictionThreshold; resource: ReclaimResource } | undefined {
  for (const t of thresholds) {
    const resource = SIGNAL_TO_RESOURCE[t.signal];
    if (resource) return { threshold: t, resource };
  }
  return undefined;
}
