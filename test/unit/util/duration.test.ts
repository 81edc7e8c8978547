import { describe, expect, it } from 'vitest';
import {
  DurationError,
  formatDuration,
  formatDurationNs,
  parseDuration,
  parseDurationNs,
} from '../../../src/util/duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['0s', 0],
    ['1m30s', 90_000],
    ['300ms', 300],
    ['10s', 10_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['2m0s', 120_000],
    ['-2s', -2_000],
    ['+5s', 5_000],
    ['.5s', 500],
    ['1.s', 1_000],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['1μs', 0.001],
    ['100ns', 0.0001],
    ['1h2m3s4ms', 3_723_004],
    ['1.000000001s', 1000.000001],
  ])('%s → %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it('is exact in nanoseconds', () => {
    expect(parseDurationNs('1h2m3s4ms5us6ns')).toBe(3_723_004_005_006n);
    expect(parseDurationNs('0.1s')).toBe(100_000_000n);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['x', 'time: invalid duration "x"'],
    ['-', 'time: invalid duration "-"'],
    ['.s', 'time: invalid duration ".s"'],
    ['1', 'time: missing unit in duration "1"'],
    ['1.5.5s', 'time: missing unit in duration "1.5.5s"'],
    ['1x', 'time: unknown unit "x" in duration "1x"'],
    ['5d', 'time: unknown unit "d" in duration "5d"'],
    ['1s ', 'time: unknown unit "s " in duration "1s "'],
    ['9999999999h', 'time: invalid duration "9999999999h"'],
  ])('rejects %j with Go message', (input, message) => {
    expect(() => parseDuration(input)).toThrow(DurationError);
    expect(() => parseDuration(input)).toThrow(message);
  });
});

describe('formatDuration (Go Duration.String)', () => {
  it.each([
    [0, '0s'],
    [60_000, '1m0s'],
    [10_000, '10s'],
    [150_000, '2m30s'],
    [300, '300ms'],
    [3_600_000, '1h0m0s'],
    [5_400_000, '1h30m0s'],
    [1_500, '1.5s'],
    [-1_500, '-1.5s'],
    [1.5, '1.5ms'],
    [0.001, '1µs'],
    [0.0015, '1.5µs'],
    [0.0005, '500ns'],
    [90_061_001, '25h1m1.001s'],
    [100, '100ms'],
  ])('%d ms → %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it('formats nanoseconds exactly', () => {
    expect(formatDurationNs(1n)).toBe('1ns');
    expect(formatDurationNs(3_723_004_005_006n)).toBe('1h2m3.004005006s');
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 59_999, 60_000, 3_599_999, 86_400_000, 123_456_789]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  it('rejects non-finite values', () => {
    expect(() => formatDuration(Number.NaN)).toThrow(DurationError);
  });
});
