/**
 * Go durations (time.ParseDuration / Duration.String), the format of every duration in
 * KubeletConfiguration and on the kubelet's command line. We work in milliseconds; the
 * arithmetic is done on bigint nanoseconds so results match Go exactly.
 */

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_NS = (1n << 63n) - 1n;
const SEGMENT_RE = /^([0-9]*)(?:\.([0-9]*))?([^0-9.]*)/;

/** Parses a Go duration into nanoseconds; throws DurationError with Go's messages. */
export function parseDurationNs(s: string): bigint {
  const quoted = JSON.stringify(s);
  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw new DurationError(`time: invalid duration ${quoted}`);

  let total = 0n;
  while (rest !== '') {
    const m = SEGMENT_RE.exec(rest);
    const [whole = '', intPart = '', fracPart, unit = ''] = m ?? [];
    if (intPart === '' && (fracPart ?? '') === '')
      throw new DurationError(`time: invalid duration ${quoted}`);
    if (unit === '') throw new DurationError(`time: missing unit in duration ${quoted}`);
    const unitNs = UNIT_NS[unit];
    if (unitNs === undefined) {
      throw new DurationError(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    }
    let segment = BigInt(intPart || '0') * unitNs;
    if (fracPart) segment += (BigInt(fracPart) * unitNs) / 10n ** BigInt(fracPart.length);
    total += segment;
    if (total > MAX_NS) throw new DurationError(`time: invalid duration ${quoted}`);
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

/** Parses a Go duration ('1m30s', '300ms', '1.5h', '-2s', '0') into milliseconds. */
export function parseDuration(s: string): number {
  return Number(parseDurationNs(s)) / 1e6;
}

/** Go's fmtFrac: the fractional digits of v / 10^prec without trailing zeros ('' when zero). */
function fraction(v: bigint, prec: number): string {
  const digits = (v % 10n ** BigInt(prec)).toString().padStart(prec, '0').replace(/0+$/, '');
  return digits === '' ? '' : `.${digits}`;
}

/** Formats nanoseconds exactly like Go's Duration.String ('1h0m0s', '2m30s', '1.5s', '300ms', '0s'). */
export function formatDurationNs(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const u = ns < 0n ? -ns : ns;
  if (u === 0n) return '0s';
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${u / 1_000n}${fraction(u, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${u / 1_000_000n}${fraction(u, 6)}ms`;

  const seconds = u / 1_000_000_000n;
  let out = `${seconds % 60n}${fraction(u, 9)}s`;
  const minutes = seconds / 60n;
  if (minutes > 0n) {
    out = `${minutes % 60n}m${out}`;
    const hours = minutes / 60n;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return `${sign}${out}`;
}

/** Formats milliseconds like Go's Duration.String: 60000 → '1m0s', 300 → '300ms'. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new DurationError(`cannot format non-finite duration ${ms}`);
  return formatDurationNs(BigInt(Math.round(ms * 1e6)));
}
