import type { TimelineEntry } from './types.js';

/**
 * PURE: a pod's timeline as a text waterfall (the CLI's and `?format=text` output): offsets from
 * the first step, durations aligned, a bar per step on a common scale, the slowest step marked.
 */

export interface WaterfallInput {
  namespace: string;
  name: string;
  uid: string;
  dropped?: number;
  goneAt?: string;
  entries: readonly TimelineEntry[];
}

export interface WaterfallOptions {
  /** Monotonic now, to show how long open steps have run (default: the newest entry). */
  monoNow?: number;
  /** Bar width in characters (default 32). */
  width?: number;
  /** Longest detail shown (default 90 characters). */
  detailWidth?: number;
}

/** "850ms", "1.24s", "2m05s". */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1_000)).padStart(2, '0')}s`;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** Steps that contain others (a SyncPod pass holds its pulls and CRI calls) are never "the slowest". */
const isEnvelope = (e: TimelineEntry) => e.kind === 'worker';

export function renderWaterfall(t: WaterfallInput, o: WaterfallOptions = {}): string {
  const width = o.width ?? 32;
  const detailWidth = o.detailWidth ?? 90;
  const entries = [...t.entries].sort((a, b) => a.at - b.at);
  const head = `pod ${t.namespace}/${t.name} (uid ${t.uid})`;
  if (entries.length === 0) return `${head}: no steps recorded\n`;
  const origin = entries[0]!.at;
  const newest = Math.max(...entries.map((e) => e.at + (e.durationMs ?? 0)));
  const now = Math.max(o.monoNow ?? newest, newest);
  const dur = (e: TimelineEntry) => (e.open ? now - e.at : e.durationMs);
  const total = Math.max(1, now - origin);
  let slowest: TimelineEntry | undefined;
  for (const e of entries) {
    const d = dur(e);
    if (d === undefined || isEnvelope(e)) continue;
    if (!slowest || d > (dur(slowest) ?? 0)) slowest = e;
  }
  const label = (e: TimelineEntry) =>
    `${e.step}${e.container ? ` [${e.container}]` : ''}${e.result && e.result !== 'ok' ? ` → ${e.result}` : ''}`;
  const labelWidth = Math.min(56, Math.max(...entries.map((e) => label(e).length)));
  const lines = [
    `${head} from ${entries[0]!.time}, ${formatMs(total)} shown${t.goneAt ? `, gone since ${t.goneAt}` : ''}${t.dropped ? `, ${t.dropped} step(s) dropped` : ''}`,
    `${lpad('start', 9)}  ${lpad('took', 7)}  ${pad('kind', 9)}  step`,
  ];
  for (const e of entries) {
    const d = dur(e);
    const from = Math.floor(((e.at - origin) / total) * width);
    const len = d === undefined ? 0 : Math.max(1, Math.round((d / total) * width));
    const cells = Array.from({ length: width }, (_, i) =>
      d === undefined
        ? i === Math.min(from, width - 1)
          ? '·'
          : ' '
        : i >= from && i < from + len
          ? '█'
          : ' ',
    ).join('');
    const took = d === undefined ? '' : `${formatMs(d)}${e.open ? '…' : ''}`;
    const mark = e === slowest ? '  ◀ slowest' : '';
    const detail = e.detail ? `  ${clip(e.detail, detailWidth)}` : '';
    lines.push(
      `${lpad(`+${formatMs(e.at - origin)}`, 9)}  ${lpad(took, 7)}  ${pad(e.kind, 9)}  ${pad(clip(label(e), labelWidth), labelWidth)}  |${cells}|${mark}${detail}`.trimEnd(),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The shape of the kubelet's explain answer the text view needs. */
export interface ExplainView {
  pod: string;
  uid: string;
  state: string;
  summary: string;
  actions: { action: string; container?: string; why: string }[];
  waiting: string[];
  containers: Record<string, string>;
}

export function renderExplain(x: ExplainView): string {
  const lines = [`pod ${x.pod} (uid ${x.uid}), worker state: ${x.state}`, `=> ${x.summary}`];
  if (x.actions.length > 0) {
    lines.push('', 'the next sync would:');
    for (const a of x.actions) lines.push(`  - ${a.action}${a.container ? ` ${a.container}` : ''}: ${a.why}`);
  }
  const waiting = x.waiting.filter((w) => w !== x.summary);
  if (waiting.length > 0) {
    lines.push('', 'also waiting on:');
    for (const w of waiting) lines.push(`  - ${w}`);
  }
  const names = Object.keys(x.containers);
  if (names.length > 0) {
    const w = Math.max(...names.map((n) => n.length));
    lines.push('', 'containers:');
    for (const n of names) lines.push(`  ${pad(n, w)}  ${x.containers[n]}`);
  }
  return `${lines.join('\n')}\n`;
}
