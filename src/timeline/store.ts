import type { Pod } from '../api/types.js';
import { Listeners } from '../util/listeners.js';
import {
  hasPodStartedSLO,
  isPodUnschedulable,
  type PodStartObservation,
  podStartObservation,
} from './podStart.js';
import type { EndStep, StepInput, TimelineEntry, TimelineSink } from './types.js';

export interface TimelineStoreOptions {
  /** Entries kept per pod (default 128). Beyond it the oldest after the first `keepFirst` are dropped. */
  maxEntriesPerPod?: number;
  /** The first entries of a pod — its start — survive later overflow (default 48). */
  keepFirst?: number;
  /** Entries kept across all pods (default 30 000: 110 full pods fit); whole pods are dropped, gone ones first. */
  maxEntries?: number;
  /** How long a pod's records outlive the pod (default 10 min). */
  retentionMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  clock?: () => number;
  /** Epoch ms at clock 0 (default performance.timeOrigin), for the entries' wall time. */
  wallOrigin?: number;
}

/** A pod's records as the API serves them: entries in start order. */
export interface PodTimeline {
  uid: string;
  namespace: string;
  name: string;
  /** Entries dropped because the pod exceeded its share. */
  dropped: number;
  /** Wall time the pod was gone from the node, if it is. */
  goneAt?: string;
  entries: TimelineEntry[];
}

/** A stored entry: the wall time is formatted when read, not on the recording path. */
type Stored = Omit<TimelineEntry, 'time'>;

interface PodRecord {
  uid: string;
  namespace: string;
  name: string;
  entries: Stored[];
  dropped: number;
  /** Monotonic ms of the newest entry (least recently used pods go first under pressure). */
  lastAt: number;
  goneAt?: number;
  /** Upstream's pod startup latency tracking: a new pod is tracked until observed started once. */
  start?: 'tracking' | 'done';
}

/**
 * The bounded store behind every pod's lifecycle timeline: per-pod and total caps, monotonic
 * timestamps, records kept for a retention period after the pod is gone. Records of pods it was
 * not told about (`pod`) are ignored, so a late step of a dropped pod cannot bring it back.
 */
export class TimelineStore implements TimelineSink {
  private readonly pods = new Map<string, PodRecord>();
  private readonly maxPerPod: number;
  private readonly keepFirst: number;
  private readonly maxEntries: number;
  private readonly retentionMs: number;
  private readonly clock: () => number;
  private readonly wallOrigin: number;
  private total = 0;
  private lastGc = Number.NEGATIVE_INFINITY;
  private readonly starts = new Listeners<PodStartObservation>();

  constructor(o: TimelineStoreOptions = {}) {
    this.maxPerPod = Math.max(1, o.maxEntriesPerPod ?? 128);
    this.keepFirst = Math.min(o.keepFirst ?? 48, this.maxPerPod - 1);
    this.maxEntries = Math.max(this.maxPerPod, o.maxEntries ?? 30_000);
    this.retentionMs = o.retentionMs ?? 600_000;
    this.clock = o.clock ?? (() => performance.now());
    this.wallOrigin = o.wallOrigin ?? performance.timeOrigin;
  }

  /** Monotonic now (ms). */
  now(): number {
    return this.clock();
  }

  /** The wall time (epoch ms) of a monotonic instant. */
  wall(at: number): number {
    return this.wallOrigin + at;
  }

  get size(): { pods: number; entries: number } {
    return { pods: this.pods.size, entries: this.total };
  }

  pod(uid: string, namespace: string, name: string): void {
    if (!uid) return;
    const p = this.pods.get(uid);
    if (p) {
      p.namespace = namespace;
      p.name = name;
      p.goneAt = undefined;
      return;
    }
    this.pods.set(uid, { uid, namespace, name, entries: [], dropped: 0, lastAt: this.clock() });
  }

  record(uid: string, step: StepInput): void {
    this.add(uid, step, false);
  }

  begin(uid: string, step: StepInput): EndStep {
    const e = this.add(uid, step, true);
    if (!e) return () => {};
    return (result, detail) => {
      if (!e.open) return;
      e.open = undefined;
      e.durationMs = Math.max(0, this.clock() - e.at);
      if (result !== undefined) e.result = result;
      if (detail !== undefined) e.detail = detail;
    };
  }

  gone(uid: string): void {
    const p = this.pods.get(uid);
    if (p && p.goneAt === undefined) p.goneAt = this.clock();
  }

  /** Calls `fn` once per new pod when the watch first shows all its containers started (the pod start SLI). */
  subscribe(fn: (o: PodStartObservation) => void): void {
    this.starts.add(fn);
  }

  /**
   * Upstream ObservedPodOnWatch: a pod first seen without a start time (and schedulable) is
   * tracked; when the watch shows every container started, its start durations are recorded and
   * reported once. Terminal and unschedulable pods are not.
   */
  observed(pod: Pod): void {
    const p = this.pods.get(pod.metadata?.uid ?? '');
    if (!p || p.start === 'done') return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || isPodUnschedulable(pod)) {
      p.start = 'done';
      return;
    }
    if (p.start === undefined) {
      p.start = pod.status?.startTime ? 'done' : 'tracking';
      return;
    }
    if (!hasPodStartedSLO(pod) || (pod.status?.containerStatuses ?? []).length === 0) return;
    p.start = 'done';
    const at = this.clock();
    const o = podStartObservation(pod, p.entries, this.wall(at));
    if (!o) return;
    this.add(
      p.uid,
      {
        kind: 'watch',
        step: 'observed running',
        detail: `started ${o.totalSeconds.toFixed(3)}s after creation, SLI ${o.sliSeconds === undefined ? 'n/a (stateful)' : `${o.sliSeconds.toFixed(3)}s`} (pulls ${o.imagePullSeconds.toFixed(3)}s, init ${o.initSeconds.toFixed(3)}s excluded)`,
      },
      false,
    );
    this.starts.emit(o);
  }

  /** A pod's timeline by UID. */
  get(uid: string): PodTimeline | undefined {
    this.gc(this.clock());
    const p = this.pods.get(uid);
    return p ? this.view(p) : undefined;
  }

  /** The newest pod of that namespace and name (a recreated pod has a new UID). */
  find(namespace: string, name: string): PodTimeline | undefined {
    this.gc(this.clock());
    let best: PodRecord | undefined;
    for (const p of this.pods.values()) {
      if (p.namespace !== namespace || p.name !== name) continue;
      if (!best || firstAt(p) >= firstAt(best)) best = p;
    }
    return best ? this.view(best) : undefined;
  }

  /** Drops pods gone for longer than the retention period. */
  gc(now: number): void {
    if (now - this.lastGc < 1_000) return;
    this.lastGc = now;
    for (const p of [...this.pods.values()]) {
      if (p.goneAt !== undefined && now - p.goneAt > this.retentionMs) this.drop(p);
    }
  }

  private view(p: PodRecord): PodTimeline {
    const entries = p.entries
      .map((e): TimelineEntry => ({ ...e, time: new Date(this.wall(e.at)).toISOString() }))
      .sort((a, b) => a.at - b.at);
    return {
      uid: p.uid,
      namespace: p.namespace,
      name: p.name,
      dropped: p.dropped,
      ...(p.goneAt !== undefined ? { goneAt: new Date(this.wall(p.goneAt)).toISOString() } : {}),
      entries,
    };
  }

  private add(uid: string, step: StepInput, open: boolean): Stored | undefined {
    const p = this.pods.get(uid);
    if (!p) return undefined;
    const at = this.clock();
    this.gc(at);
    const e: Stored = { ...step, at };
    if (open) e.open = true;
    p.entries.push(e);
    p.lastAt = at;
    this.total++;
    if (p.entries.length > this.maxPerPod) {
      p.entries.splice(this.keepFirst, 1);
      p.dropped++;
      this.total--;
    }
    if (this.total > this.maxEntries) this.shed(p);
    return e;
  }

  /** Drops whole pods until the total fits: gone pods first (longest gone), then least recently active. */
  private shed(keep: PodRecord): void {
    const order = [...this.pods.values()]
      .filter((p) => p !== keep)
      .sort((a, b) => {
        if ((a.goneAt === undefined) !== (b.goneAt === undefined)) return a.goneAt === undefined ? 1 : -1;
        return (a.goneAt ?? a.lastAt) - (b.goneAt ?? b.lastAt);
      });
    for (const p of order) {
      if (this.total <= this.maxEntries) return;
      this.drop(p);
    }
  }

  private drop(p: PodRecord): void {
    this.total -= p.entries.length;
    this.pods.delete(p.uid);
  }
}

const firstAt = (p: PodRecord): number => p.entries[0]?.at ?? p.lastAt;
