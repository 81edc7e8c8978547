/**
 * Formats rows as an aligned text table; the first row is the header. Columns whose cells are
 * all numbers (or numeric strings) align right, header included.
 */
export function formatTable(rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths: number[] = [];
  for (const r of cells) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  const numeric = widths.map((_, i) => rows.slice(1).every((r) => isNumeric(r[i])));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = cells.map(line);
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}

function isNumeric(c: string | number | undefined): boolean {
  return typeof c === 'number' || (typeof c === 'string' && /^-?\d+(\.\d+)?$/.test(c));
}
