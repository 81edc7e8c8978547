/**
 * Kubernetes resource.Quantity (k8s.io/apimachinery/pkg/api/resource): parsing into numbers and
 * printing in the apiserver's canonical form.
 *
 * Values are held exactly as a bigint count of nano-units while parsing and printing, so '0.1',
 * '1.5Gi' and '100m' never pick up binary floating-point error; only the public `parseQuantity`
 * converts to a float.
 */

export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

/** How a quantity was written, which decides how it is printed back (upstream `resource.Format`). */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

interface ExactQuantity {
  /** The value in units of 1e-9 (upstream rounds every parsed value up to nano precision). */
  nanos: bigint;
  format: QuantityFormat;
}

const FORMAT_HINT = `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`;
const QUANTITY_RE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[-+]?[0-9]*)$/;

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_SUFFIX_BY_EXPONENT = new Map(Object.entries(BINARY_SUFFIXES).map(([s, e]) => [e, s]));

// Far beyond any real resource amount; keeps a hostile '1e999999999' from building a huge bigint.
const MAX_DECIMAL_EXPONENT = 300;
const NANOS_PER_UNIT = 1_000_000_000n;

function invalid(s: string, why: string): QuantityError {
  return new QuantityError(`invalid quantity ${JSON.stringify(s)}: ${why}`);
}

/** Divides rounding the magnitude up (upstream's inf.RoundUp: away from zero). */
function divRoundUp(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (q * d === n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

function parseExact(s: string): ExactQuantity {
  const m = QUANTITY_RE.exec(s);
  if (!m) throw invalid(s, FORMAT_HINT);
  const [, sign = '', intPart = '', fracPart = '', suffix = ''] = m;
  if (intPart === '' && fracPart === '') throw invalid(s, FORMAT_HINT);

  let exp10 = 0;
  let exp2 = 0;
  let format: QuantityFormat;
  const decimal = DECIMAL_SUFFIXES[suffix];
  const binary = BINARY_SUFFIXES[suffix];
  if (decimal !== undefined) {
    exp10 = decimal;
    format = 'DecimalSI';
  } else if (binary !== undefined) {
    exp2 = binary;
    format = 'BinarySI';
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    exp10 = Number(suffix.slice(1));
    if (Math.abs(exp10) > MAX_DECIMAL_EXPONENT) throw invalid(s, 'exponent out of range');
    format = 'DecimalExponent';
  } else {
    throw invalid(s, "unable to parse quantity's suffix");
  }

  // value = digits × 10^(exp10 − fractionDigits) × 2^exp2; in nanos: × 10^9.
  let digits = BigInt(`${intPart}${fracPart}` || '0');
  if (exp2 > 0) digits <<= BigInt(exp2);
  const scale = exp10 - fracPart.length + 9;
  let nanos: bigint;
  if (scale >= 0) nanos = digits * 10n ** BigInt(scale);
  else if (digits === 0n) nanos = 0n;
  else if (-scale > 40) nanos = 1n;
  else nanos = divRoundUp(digits, 10n ** BigInt(-scale));
  if (sign === '-') nanos = -nanos;

  // Upstream demotes a binary quantity below 1 to DecimalSI ("0.5Ki" is fine, "0.0001Ki" prints as "103m").
  if (format === 'BinarySI' && nanos > -NANOS_PER_UNIT && nanos < NANOS_PER_UNIT) format = 'DecimalSI';
  return { nanos, format };
}

/** Parses a quantity ('100m', '1.5', '1Gi', '1G', '1e3') into base units as a float. */
export function parseQuantity(s: string): number {
  return Number(parseExact(s).nanos) / 1e9;
}

/** A quantity as an exact count of nano-units (rounded up as upstream), or undefined when malformed. */
export function quantityNanos(s: string): bigint | undefined {
  try {
    return parseExact(s.trim()).nanos;
  } catch {
    return undefined;
  }
}

/** Whether `s` is a syntactically valid quantity. */
export function isQuantity(s: string): boolean {
  try {
    parseExact(s);
    return true;
  } catch {
    return false;
  }
}

/** CPU quantity → millicores, rounded up like upstream `Quantity.MilliValue()` ('100m' → 100, '1.5' → 1500). */
export function cpuToMillis(s: string): number {
  return Number(divRoundUp(parseExact(s).nanos, 1_000_000n));
}

/** Memory/storage quantity → bytes, rounded up like upstream `Quantity.Value()` ('1Gi' → 1073741824). */
export function memoryToBytes(s: string): number {
  return Number(divRoundUp(parseExact(s).nanos, NANOS_PER_UNIT));
}

function stripFactors(n: bigint, factor: bigint): { rest: bigint; times: number } {
  let rest = n;
  let times = 0;
  while (rest !== 0n && rest % factor === 0n) {
    rest /= factor;
    times++;
  }
  return { rest, times };
}

function formatDecimal(nanos: bigint, format: 'DecimalSI' | 'DecimalExponent'): string {
  const stripped = stripFactors(nanos, 10n);
  let mantissa = stripped.rest;
  let exponent = stripped.times - 9;
  // Canonical exponents are multiples of 3 (round towards the smaller suffix: 1.5 → 1500m).
  while (((exponent % 3) + 3) % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  if (exponent === 0) return mantissa.toString();
  const suffix = format === 'DecimalSI' ? DECIMAL_SUFFIX_BY_EXPONENT.get(exponent) : undefined;
  return `${mantissa}${suffix ?? `e${exponent}`}`;
}

function formatExact(q: ExactQuantity): string {
  if (q.nanos === 0n) return '0';
  if (q.format === 'BinarySI') {
    const small = q.nanos > -1024n * NANOS_PER_UNIT && q.nanos < 1024n * NANOS_PER_UNIT;
    if (small || q.nanos % NANOS_PER_UNIT !== 0n) return formatDecimal(q.nanos, 'DecimalSI');
    const { rest, times } = stripFactors(q.nanos / NANOS_PER_UNIT, 1024n);
    const exponent = Math.min(times, 6) * 10;
    const mantissa = rest * 1024n ** BigInt(times - exponent / 10);
    return `${mantissa}${BINARY_SUFFIX_BY_EXPONENT.get(exponent) ?? ''}`;
  }
  return formatDecimal(q.nanos, q.format);
}

/**
 * Prints a number of base units as a canonical quantity in `format`, the way the apiserver
 * serializes a `resource.Quantity` (`NewQuantity(v, BinarySI).String()` and friends).
 */
export function formatQuantity(value: number, format: QuantityFormat = 'DecimalSI'): string {
  if (!Number.isFinite(value)) throw new QuantityError(`cannot format non-finite quantity ${value}`);
  // String(number) is the shortest exact decimal ('1e+21', '1.5e-7'), which the parser accepts.
  return formatExact({ nanos: parseExact(String(value)).nanos, format });
}

/** Re-prints a quantity string in canonical form ('1.5Gi' → '1536Mi', '1000m' → '1', '0.5' → '500m'). */
export function canonicalQuantity(s: string): string {
  return formatExact(parseExact(s));
}

/** Millicores as a canonical CPU quantity: 2000 → '2', 1500 → '1500m' (DecimalSI). */
export function formatCpuMillis(millis: number): string {
  return formatQuantity(millis / 1000, 'DecimalSI');
}

/**
 * Bytes as a canonical BinarySI quantity, as the kubelet reports node capacity: a multiple of 1024
 * gets the largest exact binary suffix (16767455232 → '16374468Ki'); anything else is a plain integer.
 */
export function formatBytes(bytes: number): string {
  return formatQuantity(bytes, 'BinarySI');
}
