import { quantityNanos } from '../util/quantity.js';

/**
 * Formatting of node resource quantities exactly as the apiserver canonicalizes a
 * resource.Quantity, so what we compute compares equal (as strings) to what we read back.
 * Pure; integers only (bytes, millicores, counts), all within Number.MAX_SAFE_INTEGER.
 */

const DECIMAL_SUFFIX: Record<number, string> = {
  [-9]: 'n',
  [-6]: 'u',
  [-3]: 'm',
  0: '',
  3: 'k',
  6: 'M',
  9: 'G',
  12: 'T',
  15: 'P',
  18: 'E',
};
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

function removeFactors(value: number, base: number): [number, number] {
  if (value === 0) return [0, 0];
  let times = 0;
  while (value % base === 0) {
    value /= base;
    times++;
  }
  return [value, times];
}

/** A DecimalSI quantity `value × 10^scale` in canonical form: 3 → "3", 3900m → "3900m", 1000 → "1k". */
export function formatDecimalSI(value: number, scale = 0): string {
  const v = Math.trunc(value);
  if (v === 0) return '0';
  const [amount, times] = removeFactors(v, 10);
  let exponent = scale + times;
  let mantissa = amount;
  // Go's % keeps the dividend's sign; the exponent must end up a multiple of 3.
  const rem = exponent % 3;
  if (rem === 1 || rem === -2) {
    mantissa *= 10;
    exponent -= 1;
  } else if (rem === 2 || rem === -1) {
    mantissa *= 100;
    exponent -= 2;
  }
  return `${mantissa}${DECIMAL_SUFFIX[exponent] ?? `e${exponent}`}`;
}

/**
 * `bytes` as the apiserver stores a BinarySI quantity: 16 GiB → "16Gi", 16393016 KiB →
 * "16393016Ki". Go prints a value that is no multiple of 1024 as a plain integer, which the
 * apiserver then re-reads (no suffix) as DecimalSI: 96636764000 → "96636764k", 1536 → "1536".
 */
export function formatBinarySI(bytes: number): string {
  const v = Math.trunc(bytes);
  const [amount, times] = removeFactors(v, 1024);
  if (v === 0 || times === 0) return formatDecimalSI(v);
  const exp = Math.min(times, BINARY_SUFFIX.length - 1);
  const mantissa = amount * 1024 ** (times - exp);
  return `${mantissa}${BINARY_SUFFIX[exp]}`;
}

/** Two quantity strings denote the same amount. */
export function sameQuantity(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const x = quantityNanos(a);
  return x !== undefined && x === quantityNanos(b);
}

/** CPU millicores as a canonical quantity: 4000 → "4", 3900 → "3900m". */
export function formatCpuMillis(millis: number): string {
  return formatDecimalSI(millis, -3);
}

/**
 * The byte value of a hard-eviction threshold, as upstream's GetThresholdQuantity: a quantity
 * as is, a percentage (a float32 in Go) of capacity truncated to whole bytes.
 */
export function thresholdBytes(value: EvictionThresholdValue, capacityBytes: number): number {
  if ('bytes' in value) return value.bytes;
  return Math.trunc(capacityBytes * Math.fround(value.percentage));
}

/** A hard-eviction threshold: an absolute amount or a fraction of capacity (0.1 for "10%"). */
export type EvictionThresholdValue = { bytes: number } | { percentage: number };
