/** One record of a CRI log file: `<RFC3339Nano> <stdout|stderr> <P|F> <text>`. */
export interface LogRecord {
  /** The timestamp as written (RFC3339Nano). */
  time: string;
  /** Epoch ms of `time`. */
  ms: number;
  stream: 'stdout' | 'stderr';
  /** The text, with the newline restored for full lines; partial (P) lines are joined. */
  text: string;
}

export interface LogOptions {
  tailLines?: number;
  limitBytes?: number;
  timestamps?: boolean;
  /** Only records at or after this time (epoch ms). */
  sinceMs?: number;
  stream?: 'stdout' | 'stderr' | 'All';
}

/** PURE: parses complete CRI log lines (a trailing incomplete line is returned as `rest`). */
export function parseCriLog(raw: string): { records: LogRecord[]; rest: string } {
  const records: LogRecord[] = [];
  const lines = raw.split('\n');
  const rest = lines.pop() ?? '';
  let partial: LogRecord | undefined;
  for (const line of lines) {
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    const c = line.indexOf(' ', b + 1);
    if (a < 0 || b < 0) continue;
    const time = line.slice(0, a);
    const stream = line.slice(a + 1, b);
    const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
    const text = c < 0 ? '' : line.slice(c + 1);
    if (stream !== 'stdout' && stream !== 'stderr') continue;
    const full = !tag.startsWith('P');
    if (partial && partial.stream === stream) {
      partial.text += text;
    } else {
      partial = { time, ms: Date.parse(time), stream, text };
    }
    if (full) {
      partial.text += '\n';
      records.push(partial);
      partial = undefined;
    }
  }
  if (partial) records.push(partial);
  return { records, rest };
}

/** PURE: selects and renders records per PodLogOptions (since, stream, tail, timestamps, limit). */
export function renderLog(records: LogRecord[], o: LogOptions): string {
  let rs = records;
  if (o.sinceMs !== undefined) rs = rs.filter((r) => r.ms >= o.sinceMs!);
  if (o.stream && o.stream !== 'All') rs = rs.filter((r) => r.stream === o.stream);
  if (o.tailLines !== undefined && o.tailLines >= 0) rs = o.tailLines === 0 ? [] : rs.slice(-o.tailLines);
  let out = rs.map((r) => (o.timestamps ? `${r.time} ${r.text}` : r.text)).join('');
  if (o.limitBytes !== undefined && o.limitBytes >= 0) {
    const buf = Buffer.from(out, 'utf8');
    if (buf.length > o.limitBytes) out = buf.subarray(0, o.limitBytes).toString('utf8');
  }
  return out;
}
