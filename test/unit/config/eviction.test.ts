import { describe, expect, it } from 'vitest';
import {
  buildEvictionThresholds,
  DEFAULT_EVICTION_HARD,
  effectiveEvictionHard,
  parseGracePeriod,
  parseMinimumReclaim,
  parseThresholdValue,
} from '../../../src/config/eviction.js';

const PODS = ['pods'];

describe('threshold statements', () => {
  it.each([
    ['memory.available', '100Mi', { quantity: 104857600 }],
    ['nodefs.available', '10%', { percentage: 0.1 }],
    ['nodefs.inodesFree', '5%', { percentage: 0.05 }],
    ['pid.available', '1k', { quantity: 1000 }],
    ['imagefs.available', '12.5%', { percentage: 0.125 }],
    ['memory.available', '0%', null],
    ['memory.available', '100%', null],
  ])('%s<%s', (signal, value, expected) => {
    expect(parseThresholdValue(signal, value)).toEqual(expected);
  });

  it.each([
    ['foo.available', '1', 'unsupported eviction signal foo.available'],
    ['memory.available', '0', 'eviction threshold memory.available must be positive: 0'],
    ['memory.available', '-5%', 'eviction percentage threshold memory.available must be >= 0%: -5%'],
    ['memory.available', '101%', 'eviction percentage threshold memory.available must be <= 100%: 101%'],
    ['memory.available', 'x%', 'invalid percentage "x%"'],
    ['memory.available', '1.2.3', 'invalid quantity "1.2.3"'],
  ])('rejects %s<%s', (signal, value, message) => {
    expect(() => parseThresholdValue(signal, value)).toThrow(message);
  });

  it('parses grace periods and minimum reclaims', () => {
    expect(parseGracePeriod('memory.available', '1m30s')).toBe(90_000);
    expect(() => parseGracePeriod('memory.available', 'soon')).toThrow('time: invalid duration "soon"');
    expect(() => parseGracePeriod('nope', '1s')).toThrow('unsupported eviction signal nope');
    expect(parseMinimumReclaim('imagefs.available', '2Gi')).toEqual({ quantity: 2147483648 });
    expect(parseMinimumReclaim('imagefs.available', '5%')).toEqual({ percentage: 0.05 });
    expect(parseMinimumReclaim('imagefs.available', '0')).toEqual({ quantity: 0 });
    expect(() => parseMinimumReclaim('imagefs.available', '0%')).toThrow('must be positive');
  });
});

describe('effectiveEvictionHard', () => {
  it('uses the defaults when nothing (or an empty map) is set', () => {
    expect(effectiveEvictionHard({ enforceNodeAllocatable: PODS })).toEqual(DEFAULT_EVICTION_HARD);
    expect(effectiveEvictionHard({ evictionHard: {}, enforceNodeAllocatable: PODS })).toEqual(
      DEFAULT_EVICTION_HARD,
    );
  });

  it('merges defaults into a partial map by default', () => {
    expect(
      effectiveEvictionHard({
        evictionHard: { 'memory.available': '1Gi', 'pid.available': '100' },
        enforceNodeAllocatable: PODS,
      }),
    ).toEqual({ ...DEFAULT_EVICTION_HARD, 'memory.available': '1Gi', 'pid.available': '100' });
  });

  it('keeps only the given signals with mergeDefaultEvictionSettings: false (upstream default)', () => {
    expect(
      effectiveEvictionHard({
        evictionHard: { 'memory.available': '1Gi' },
        mergeDefaultEvictionSettings: false,
        enforceNodeAllocatable: PODS,
      }),
    ).toEqual({ 'memory.available': '1Gi' });
  });
});

describe('buildEvictionThresholds', () => {
  it('produces the default hard thresholds plus the allocatable copy of memory.available', () => {
    const { thresholds, issues } = buildEvictionThresholds({ enforceNodeAllocatable: PODS });
    expect(issues).toEqual([]);
    expect(thresholds).toEqual([
      { signal: 'memory.available', operator: 'LessThan', value: { quantity: 104857600 }, gracePeriodMs: 0 },
      { signal: 'nodefs.available', operator: 'LessThan', value: { percentage: 0.1 }, gracePeriodMs: 0 },
      { signal: 'nodefs.inodesFree', operator: 'LessThan', value: { percentage: 0.05 }, gracePeriodMs: 0 },
      { signal: 'imagefs.available', operator: 'LessThan', value: { percentage: 0.15 }, gracePeriodMs: 0 },
      { signal: 'imagefs.inodesFree', operator: 'LessThan', value: { percentage: 0.05 }, gracePeriodMs: 0 },
      {
        signal: 'allocatableMemory.available',
        operator: 'LessThan',
        value: { quantity: 104857600 },
        gracePeriodMs: 0,
      },
    ]);
  });

  it('skips the allocatable threshold when pods are not enforced', () => {
    const { thresholds } = buildEvictionThresholds({ enforceNodeAllocatable: [] });
    expect(thresholds.map((t) => t.signal)).not.toContain('allocatableMemory.available');
  });

  it('drops signals disabled with 0% and attaches soft grace periods and minimum reclaims', () => {
    const { thresholds, issues } = buildEvictionThresholds({
      evictionHard: { 'imagefs.available': '0%' },
      evictionSoft: { 'memory.available': '500Mi' },
      evictionSoftGracePeriod: { 'memory.available': '1m30s', 'nodefs.available': '1m' },
      evictionMinimumReclaim: { 'memory.available': '200Mi' },
      enforceNodeAllocatable: PODS,
    });
    expect(issues).toEqual([]);
    expect(thresholds.map((t) => t.signal)).not.toContain('imagefs.available');
    const soft = thresholds.filter((t) => t.gracePeriodMs > 0);
    expect(soft).toEqual([
      {
        signal: 'memory.available',
        operator: 'LessThan',
        value: { quantity: 524288000 },
        gracePeriodMs: 90_000,
        minReclaim: { quantity: 209715200 },
      },
    ]);
    const allocatable = thresholds.find((t) => t.signal === 'allocatableMemory.available');
    expect(allocatable?.minReclaim).toEqual({ quantity: 209715200 });
  });

  it('requires a grace period for every soft threshold', () => {
    const { issues } = buildEvictionThresholds({
      evictionSoft: { 'memory.available': '500Mi', 'nodefs.available': '0%' },
      enforceNodeAllocatable: PODS,
    });
    expect(issues).toEqual([
      {
        path: 'evictionSoftGracePeriod',
        message: 'grace period must be specified for the soft eviction threshold memory.available',
      },
    ]);
  });

  it('reports every bad entry with its path and value', () => {
    const { issues } = buildEvictionThresholds({
      evictionHard: { 'foo.available': '1' },
      evictionSoftGracePeriod: { 'memory.available': 'x' },
      enforceNodeAllocatable: PODS,
    });
    expect(issues).toEqual([
      {
        path: 'evictionHard[foo.available]',
        value: '1',
        message: 'unsupported eviction signal foo.available',
      },
      {
        path: 'evictionSoftGracePeriod[memory.available]',
        value: 'x',
        message: 'time: invalid duration "x"',
      },
    ]);
  });
});
