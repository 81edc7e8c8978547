import { describe, expect, it } from 'vitest';
import {
  formatBinarySI,
  formatCpuMillis,
  formatDecimalSI,
  sameQuantity,
  thresholdBytes,
} from '../../../src/node/resources.js';
import { quantityNanos } from '../../../src/util/quantity.js';

const Ki = 1024;
const Mi = Ki * 1024;
const Gi = Mi * 1024;

describe('formatBinarySI (BinarySI as the apiserver stores it)', () => {
  it.each([
    [0, '0'],
    [512, '512'],
    [1000, '1k'],
    [1023, '1023'],
    [1024, '1Ki'],
    [1536, '1536'],
    [16 * Gi, '16Gi'],
    [16393016 * Ki, '16393016Ki'],
    [16 * Gi - 100 * Mi, '16284Mi'],
    [3 * 2 ** 60, '3Ei'],
    [2 ** 70, '1024Ei'],
    [2 * Mi, '2Mi'],
    [123456789, '123456789'],
    // Not a multiple of 1024: Go prints digits, the apiserver re-reads them as DecimalSI.
    [96636764000, '96636764k'],
    [1024000, '1000Ki'],
    [16 * Gi - 356 * Mi + 1000, '16806577128'],
  ])('%d bytes → %s', (bytes, want) => {
    expect(formatBinarySI(bytes)).toBe(want);
  });
});

describe('formatCpuMillis / formatDecimalSI', () => {
  it.each([
    [0, '0'],
    [10, '10m'],
    [100, '100m'],
    [2500, '2500m'],
    [3900, '3900m'],
    [4000, '4'],
    [64000, '64'],
    [1_000_000, '1k'],
  ])('%d millicores → %s', (m, want) => {
    expect(formatCpuMillis(m)).toBe(want);
  });

  it.each([
    [0, '0'],
    [8, '8'],
    [110, '110'],
    [250, '250'],
    [1000, '1k'],
    [1500, '1500'],
  ])('%d → %s', (n, want) => {
    expect(formatDecimalSI(n)).toBe(want);
  });
});

describe('thresholdBytes', () => {
  it('takes an absolute value as is', () => {
    expect(thresholdBytes({ bytes: 100 * Mi }, 16 * Gi)).toBe(100 * Mi);
  });
  it('computes a percentage like Go: float32 fraction × capacity, truncated', () => {
    // float32(0.1) is 0.100000001490116…, so 100 Gi × 10 % is 160 bytes more than exact.
    expect(thresholdBytes({ percentage: 0.1 }, 100 * Gi)).toBe(10737418400);
    expect(thresholdBytes({ percentage: 0.15 }, 1000)).toBe(150);
  });
});

describe('quantityNanos / sameQuantity', () => {
  it.each([
    ['1', 1_000_000_000n],
    ['100m', 100_000_000n],
    ['1.5', 1_500_000_000n],
    ['2Ki', 2048n * 1_000_000_000n],
    ['1k', 1000n * 1_000_000_000n],
    ['1e3', 1000n * 1_000_000_000n],
    ['-5', -5_000_000_000n],
    ['5n', 5n],
  ])('%s → %s', (q, want) => {
    expect(quantityNanos(q)).toBe(want);
  });

  it.each(['', 'abc', '1Xi', '.', '1.2.3'])('rejects %j', (q) => {
    expect(quantityNanos(q)).toBeUndefined();
  });

  it('compares amounts, not spellings', () => {
    expect(sameQuantity('1Gi', '1073741824')).toBe(true);
    expect(sameQuantity('96636764k', '96636764000')).toBe(true);
    expect(sameQuantity('4', '4000m')).toBe(true);
    expect(sameQuantity('4', '3900m')).toBe(false);
    expect(sameQuantity(undefined, '0')).toBe(false);
    expect(sameQuantity('x', 'x')).toBe(true);
    expect(sameQuantity('x', 'y')).toBe(false);
  });
});
