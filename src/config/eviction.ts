/**
 * Eviction thresholds from KubeletConfiguration: upstream's ParseThresholdConfig
 * (pkg/kubelet/eviction/helpers.go) plus the evictionHard defaults (defaults_linux.go).
 */
import { DurationError, parseDuration } from '../util/duration.js';
import { errorMessage } from '../util/errors.js';
import { parseQuantity, QuantityError } from '../util/quantity.js';
import type { ConfigIssue } from './errors.js';
import {
  EVICTION_SIGNALS,
  type EvictionSignal,
  type EvictionThreshold,
  type ThresholdValue,
} from './types.js';

export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
  'imagefs.inodesFree': '5%',
};

/**
 * Whether defaults are merged into a partially specified evictionHard.
 *
 * Upstream (1.34+) has the `mergeDefaultEvictionSettings` field, default false: setting any
 * evictionHard signal drops the other defaults (so `{memory.available: 200Mi}` silently turns off
 * disk-pressure eviction). kubelet-ts deliberately defaults to merging (unspecified signals keep
 * their defaults; "0%" still disables one); `mergeDefaultEvictionSettings: false` restores the
 * upstream behaviour.
 */
export const DEFAULT_MERGE_EVICTION_SETTINGS = true;

export function isEvictionSignal(s: string): s is EvictionSignal {
  return (EVICTION_SIGNALS as readonly string[]).includes(s);
}

function requireSignal(signal: string): EvictionSignal {
  if (!isEvictionSignal(signal)) throw new Error(`unsupported eviction signal ${signal}`);
  return signal;
}

function parsePercentage(value: string): number {
  const number = value.replace(/%+$/, '');
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(number)) {
    throw new Error(`invalid percentage ${JSON.stringify(value)}`);
  }
  return Number(number) / 100;
}

function quantityOf(value: string): number {
  try {
    return parseQuantity(value);
  } catch (e) {
    if (e instanceof QuantityError) throw new Error(e.message);
    throw e;
  }
}

/**
 * Parses one evictionHard/evictionSoft entry. Returns null for "0%" and "100%", which upstream
 * treats as "this signal is disabled". Throws with upstream's message on a bad entry.
 */
export function parseThresholdValue(signal: string, value: string): ThresholdValue | null {
  requireSignal(signal);
  if (value.endsWith('%')) {
    if (value === '0%' || value === '100%') return null;
    const percentage = parsePercentage(value);
    if (percentage < 0) throw new Error(`eviction percentage threshold ${signal} must be >= 0%: ${value}`);
    if (percentage > 1) throw new Error(`eviction percentage threshold ${signal} must be <= 100%: ${value}`);
    return { percentage };
  }
  const quantity = quantityOf(value);
  if (quantity <= 0) throw new Error(`eviction threshold ${signal} must be positive: ${value}`);
  return { quantity };
}

/** Parses one evictionSoftGracePeriod entry into milliseconds. */
export function parseGracePeriod(signal: string, value: string): number {
  requireSignal(signal);
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (e) {
    if (e instanceof DurationError) throw new Error(e.message);
    throw e;
  }
  if (ms < 0) throw new Error(`invalid eviction grace period specified: ${value}, must be a positive value`);
  return ms;
}

/** Parses one evictionMinimumReclaim entry. */
export function parseMinimumReclaim(signal: string, value: string): ThresholdValue {
  requireSignal(signal);
  if (value.endsWith('%')) {
    const percentage = parsePercentage(value);
    if (percentage <= 0)
      throw new Error(`eviction percentage minimum reclaim ${signal} must be positive: ${value}`);
    return { percentage };
  }
  const quantity = quantityOf(value);
  if (quantity < 0) throw new Error(`negative reclaim defined for signal ${signal}`);
  return { quantity };
}

export interface EvictionSettings {
  evictionHard?: Record<string, string>;
  evictionSoft?: Record<string, string>;
  evictionSoftGracePeriod?: Record<string, string>;
  evictionMinimumReclaim?: Record<string, string>;
  mergeDefaultEvictionSettings?: boolean;
  enforceNodeAllocatable: readonly string[];
}

/** The evictionHard map in effect after defaulting (see DEFAULT_MERGE_EVICTION_SETTINGS). */
export function effectiveEvictionHard(settings: EvictionSettings): Record<string, string> {
  const hard = settings.evictionHard ?? {};
  // An empty map is dropped on the way through Go's JSON (omitempty), so it means "unset" upstream too.
  if (Object.keys(hard).length === 0) return { ...DEFAULT_EVICTION_HARD };
  const merge = settings.mergeDefaultEvictionSettings ?? DEFAULT_MERGE_EVICTION_SETTINGS;
  return merge ? { ...DEFAULT_EVICTION_HARD, ...hard } : { ...hard };
}

type Collect = (path: string, value: string, e: unknown) => void;

function parseMap<T>(
  field: string,
  map: Record<string, string> | undefined,
  parse: (signal: string, value: string) => T,
  fail: Collect,
): Map<EvictionSignal, T> {
  const out = new Map<EvictionSignal, T>();
  for (const [signal, value] of Object.entries(map ?? {})) {
    try {
      out.set(signal as EvictionSignal, parse(signal, value));
    } catch (e) {
      fail(`${field}[${signal}]`, value, e);
    }
  }
  return out;
}

/**
 * All eviction thresholds (hard, then soft) with grace periods and minimum reclaims attached,
 * plus `allocatableMemory.available` copies of hard memory thresholds when enforceNodeAllocatable
 * contains "pods" — upstream's ParseThresholdConfig. Problems are returned, not thrown.
 */
export function buildEvictionThresholds(settings: EvictionSettings): {
  thresholds: EvictionThreshold[];
  issues: ConfigIssue[];
} {
  const issues: ConfigIssue[] = [];
  const fail: Collect = (path, value, e) => issues.push({ path, value, message: errorMessage(e) });

  const hard = parseMap('evictionHard', effectiveEvictionHard(settings), parseThresholdValue, fail);
  const soft = parseMap('evictionSoft', settings.evictionSoft, parseThresholdValue, fail);
  const grace = parseMap('evictionSoftGracePeriod', settings.evictionSoftGracePeriod, parseGracePeriod, fail);
  const reclaim = parseMap(
    'evictionMinimumReclaim',
    settings.evictionMinimumReclaim,
    parseMinimumReclaim,
    fail,
  );

  const thresholds: EvictionThreshold[] = [];
  const add = (signal: EvictionSignal, value: ThresholdValue, gracePeriodMs: number) => {
    const minReclaim = reclaim.get(signal);
    thresholds.push({
      signal,
      operator: 'LessThan',
      value,
      gracePeriodMs,
      ...(minReclaim ? { minReclaim } : {}),
    });
  };
  for (const [signal, value] of hard) if (value) add(signal, value, 0);
  for (const [signal, value] of soft) {
    if (!value) continue;
    const period = grace.get(signal);
    if (period === undefined) {
      if (!settings.evictionSoftGracePeriod || !(signal in settings.evictionSoftGracePeriod)) {
        issues.push({
          path: 'evictionSoftGracePeriod',
          message: `grace period must be specified for the soft eviction threshold ${signal}`,
        });
      }
      continue;
    }
    add(signal, value, period);
  }
  if (settings.enforceNodeAllocatable.includes('pods')) {
    for (const t of [...thresholds]) {
      if (t.signal === 'memory.available' && t.gracePeriodMs === 0) {
        thresholds.push({ ...t, signal: 'allocatableMemory.available' });
      }
    }
  }
  return { thresholds, issues };
}
