import { describe, expect, it } from 'vitest';
import {
  canonicalQuantity,
  cpuToMillis,
  formatBytes,
  formatCpuMillis,
  formatQuantity,
  isQuantity,
  memoryToBytes,
  parseQuantity,
  QuantityError,
} from '../../../src/util/quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['0', 0],
    ['100m', 0.1],
    ['1.5', 1.5],
    ['1Gi', 1073741824],
    ['1G', 1e9],
    ['1e3', 1000],
    ['1E3', 1000],
    ['1e-3', 0.001],
    ['500Mi', 524288000],
    ['10Ki', 10240],
    ['1Ti', 2 ** 40],
    ['1Ei', 2 ** 60],
    ['1k', 1000],
    ['1M', 1e6],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['1n', 1e-9],
    ['1u', 1e-6],
    ['250m', 0.25],
    ['-1', -1],
    ['+2', 2],
    ['-500Mi', -524288000],
    ['.5', 0.5],
    ['5.', 5],
    ['0.5Gi', 536870912],
    ['1.5Gi', 1610612736],
    ['007', 7],
  ])('%s → %d', (input, expected) => {
    expect(parseQuantity(input)).toBe(expected);
    expect(isQuantity(input)).toBe(true);
  });

  it('rounds values finer than a nano-unit up, like upstream', () => {
    expect(parseQuantity('0.1n')).toBe(1e-9);
    expect(parseQuantity('1e-20')).toBe(1e-9);
    expect(parseQuantity('-0.1n')).toBe(-1e-9);
  });

  it.each([
    ['1.2.3', 'quantities must match the regular expression'],
    ['abc', 'quantities must match the regular expression'],
    ['10XB', 'quantities must match the regular expression'],
    ['', 'quantities must match the regular expression'],
    [' 1', 'quantities must match the regular expression'],
    ['1 ', 'quantities must match the regular expression'],
    ['.', 'quantities must match the regular expression'],
    ['-', 'quantities must match the regular expression'],
    ['Gi', 'quantities must match the regular expression'],
    ['1mi', "unable to parse quantity's suffix"],
    ['1KiB', 'quantities must match the regular expression'],
    ['1e', "unable to parse quantity's suffix"],
    ['1Mi5', "unable to parse quantity's suffix"],
    ['1e999999', 'exponent out of range'],
  ])('rejects %j', (input, why) => {
    expect(() => parseQuantity(input)).toThrow(QuantityError);
    expect(() => parseQuantity(input)).toThrow(`invalid quantity ${JSON.stringify(input)}: ${why}`);
    expect(isQuantity(input)).toBe(false);
  });
});

describe('cpuToMillis / memoryToBytes', () => {
  it.each([
    ['100m', 100],
    ['1', 1000],
    ['1.5', 1500],
    ['2', 2000],
    ['0.1m', 1],
    ['1n', 1],
    ['0', 0],
    ['1k', 1_000_000],
  ])('cpuToMillis(%s) = %d', (input, expected) => {
    expect(cpuToMillis(input)).toBe(expected);
  });

  it.each([
    ['1Gi', 1073741824],
    ['1G', 1_000_000_000],
    ['100Mi', 104857600],
    ['1.5Ki', 1536],
    ['100m', 1],
    ['0.5', 1],
    ['16374468Ki', 16767455232],
    ['0', 0],
  ])('memoryToBytes(%s) = %d', (input, expected) => {
    expect(memoryToBytes(input)).toBe(expected);
  });
});

describe('formatting', () => {
  it.each([
    [2000, '2'],
    [1500, '1500m'],
    [100, '100m'],
    [1, '1m'],
    [0, '0'],
    [12000, '12'],
    [2_000_000, '2k'],
  ])('formatCpuMillis(%d) = %s', (millis, expected) => {
    expect(formatCpuMillis(millis)).toBe(expected);
  });

  it.each([
    [16767455232, '16374468Ki'],
    [263174212 * 1024, '263174212Ki'],
    [1073741824, '1Gi'],
    [2097152, '2Mi'],
    [2 ** 40, '1Ti'],
    [1024, '1Ki'],
    [1536, '1536'],
    [1_000_000_000, '1000000000'],
    [512, '512'],
    [0, '0'],
    [-2048, '-2Ki'],
  ])('formatBytes(%d) = %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it.each([
    [110, 'DecimalSI', '110'],
    [1000, 'DecimalSI', '1k'],
    [0.1, 'DecimalSI', '100m'],
    [1.5e-10, 'DecimalSI', '1n'],
    [1e21, 'DecimalSI', '1e21'],
    [1500, 'DecimalExponent', '1500'],
    [12000, 'DecimalExponent', '12e3'],
    [0.5, 'BinarySI', '500m'],
    [1536.5, 'BinarySI', '1536500m'],
  ] as const)('formatQuantity(%d, %s) = %s', (value, format, expected) => {
    expect(formatQuantity(value, format)).toBe(expected);
  });

  it('rejects non-finite numbers', () => {
    expect(() => formatQuantity(Number.NaN)).toThrow(QuantityError);
    expect(() => formatBytes(Number.POSITIVE_INFINITY)).toThrow(QuantityError);
  });

  it.each([
    ['1.5Gi', '1536Mi'],
    ['1024Mi', '1Gi'],
    ['2048Ki', '2Mi'],
    ['100Mi', '100Mi'],
    ['1000m', '1'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['1e3', '1e3'],
    ['1.5e3', '1500'],
    ['1000', '1k'],
    ['0.1Ki', '102400m'],
    ['0Mi', '0'],
    ['-1Gi', '-1Gi'],
    ['1G', '1G'],
    ['5.', '5'],
  ])('canonicalQuantity(%s) = %s', (input, expected) => {
    expect(canonicalQuantity(input)).toBe(expected);
  });

  it('round-trips canonical strings through parse', () => {
    for (const bytes of [0, 1, 1023, 1024, 4096, 123456789, 16767455232, 2 ** 50]) {
      expect(memoryToBytes(formatBytes(bytes))).toBe(bytes);
    }
    for (const millis of [0, 1, 999, 1000, 1001, 123456, 64000]) {
      expect(cpuToMillis(formatCpuMillis(millis))).toBe(millis);
    }
  });
});
