/**
 * Kubernetes resource.Quantity strings (`500m`, `1.5Gi`, `2e3`) as exact integers of nano-units,
 * enough to add and compare them. Returns undefined for a malformed quantity.
 */
export function parseQuantity(s: string): bigint | undefined {
  const m = /^([+-]?)(\d+\.?\d*|\.\d+)(.*)$/.exec(s.trim());
  if (!m) return undefined;
  const [, sign = '', digits = '', suffix = ''] = m;
  const [whole = '', frac = ''] = digits.split('.');
  let num = BigInt(`${whole || '0'}${frac}`);
  let den = 10n ** BigInt(frac.length);
  const scale = suffixScale(suffix);
  if (!scale) return undefined;
  num *= scale.num * 1_000_000_000n;
  den *= scale.den;
  // Round up to the next nano-unit, as resource.Quantity does for sub-nano precision.
  let value = num / den;
  if (num % den !== 0n) value += 1n;
  return sign === '-' ? -value : value;
}

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

function suffixScale(suffix: string): { num: bigint; den: bigint } | undefined {
  const bin = BINARY[suffix];
  if (bin !== undefined) return { num: 1024n ** BigInt(bin), den: 1n };
  let exp = DECIMAL[suffix];
  if (exp === undefined) {
    const e = /^[eE]([+-]?\d+)$/.exec(suffix);
    if (!e) return undefined;
    exp = Number(e[1]);
  }
  return exp >= 0 ? { num: 10n ** BigInt(exp), den: 1n } : { num: 1n, den: 10n ** BigInt(-exp) };
}
