import { randomBytes } from 'node:crypto';

// Wall-clock nanoseconds that never go backwards: one wall reading at load, then the monotonic
// clock. Strictly increasing, so created <= started <= finished holds even within a millisecond.
const wallBaseNs = BigInt(Date.now()) * 1_000_000n;
const monoBaseNs = process.hrtime.bigint();
let lastNs = 0n;

/** Now, in Unix nanoseconds (the CRI's timestamp unit). */
export function nowNs(): bigint {
  let ns = wallBaseNs + (process.hrtime.bigint() - monoBaseNs);
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

/** Go's time.RFC3339Nano: UTC, fraction with trailing zeros trimmed (containerd's log timestamps). */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

/** A 64-hex-digit id, like containerd's sandbox, container and exec ids. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** A short random token (streaming URLs). */
export function newToken(): string {
  return randomBytes(6).toString('base64url');
}
