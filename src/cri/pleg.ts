import { sleep } from '../util/abort.js';
import { Listeners } from '../util/listeners.js';
import { type Logger, silentLogger } from '../util/log.js';
import type { CriClient } from './client.js';
import { sandboxReady, toContainerState } from './convert.js';
import { CriError } from './errors.js';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './runtimeState.js';

export type PlegEventType = 'ContainerStarted' | 'ContainerDied' | 'ContainerRemoved' | 'ContainerChanged';

export interface PlegEvent {
  podUid: string;
  type: PlegEventType;
  /** Container or sandbox ID. */
  id: string;
}

type Plain = 'running' | 'exited' | 'unknown';

interface Record_ {
  podUid: string;
  state: Plain;
}

/** What the last relist saw of one pod (for housekeeping: orphans, cleanup). */
export interface RuntimePodRef {
  uid: string;
  name: string;
  namespace: string;
  sandboxIds: string[];
  containerIds: string[];
  runningContainers: number;
  readySandboxes: number;
}

export interface PlegOptions {
  cri: CriClient;
  /** Also reachable through subscribe(). */
  onEvent?: (ev: PlegEvent) => void;
  logger?: Logger;
  relistPeriodMs?: number;
  /** Relist period while the runtime's event stream works (events trigger relists at once). */
  eventedRelistPeriodMs?: number;
  healthThresholdMs?: number;
  now?: () => number;
}

/**
 * The Pod Lifecycle Event Generator: relists sandboxes and containers (2 CRI calls) every second
 * and turns state differences into per-pod events, like upstream's generic PLEG. Where the
 * runtime streams container events (GetContainerEvents), each event triggers an immediate
 * relist and the periodic relist slows down; containerd 1.6 answers Unimplemented, and the
 * PLEG stays on the 1 s relist.
 */
export class Pleg {
  private records = new Map<string, Record_>();
  private pods = new Map<string, RuntimePodRef>();
  private lastRelistStart = 0;
  private lastRelistOk = 0;
  private relisted = false;
  private evented = false;
  private wake: (() => void) | undefined;
  private wakePending = false;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly listeners: Listeners<PlegEvent>;

  constructor(private readonly opts: PlegOptions) {
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.listeners = new Listeners((err) => this.log.error({ err: String(err) }, 'PLEG event handler threw'));
  }

  /** Calls `fn` with every pod lifecycle event (the sync loop's PLEG channel). */
  subscribe(fn: (ev: PlegEvent) => void): void {
    this.listeners.add(fn);
  }

  /** Pods, running and exited containers the last relist saw (kubelet_running_* metrics). */
  counts(): { pods: number; running: number; exited: number } {
    let pods = 0;
    let running = 0;
    let total = 0;
    for (const p of this.pods.values()) {
      if (p.readySandboxes > 0) pods++;
      running += p.runningContainers;
      total += p.containerIds.length;
    }
    return { pods, running, exited: total - running };
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    void this.watchEvents(signal);
    while (!signal.aborted) {
      await this.relist(signal).catch((err) => this.log.warn({ err: String(err) }, 'PLEG relist failed'));
      const period = this.evented
        ? (this.opts.eventedRelistPeriodMs ?? 300_000)
        : (this.opts.relistPeriodMs ?? 1_000);
      if (this.wakePending) {
        this.wakePending = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, period);
        signal.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
      this.wake = undefined;
    }
  }

  /** Asks for a relist as soon as possible (if one is running, another follows it). */
  relistSoon(): void {
    if (this.wake) this.wake();
    else this.wakePending = true;
  }

  /** Upstream's PLEG health: unhealthy before the first relist and when relisting stalls. */
  healthy(): { ok: boolean; message: string } {
    if (!this.relisted) return { ok: false, message: 'pleg has yet to be successful' };
    const threshold = this.opts.healthThresholdMs ?? 180_000;
    const since = this.now() - this.lastRelistStart;
    if (since > threshold) {
      return {
        ok: false,
        message: `pleg was last seen active ${Math.round(since / 1000)}s ago; threshold is ${threshold / 1000}s`,
      };
    }
    return { ok: true, message: '' };
  }

  /** Pods seen by the last relist, by UID. */
  runtimePods(): ReadonlyMap<string, RuntimePodRef> {
    return this.pods;
  }

  get hasRelisted(): boolean {
    return this.relisted;
  }

  async relist(signal?: AbortSignal): Promise<void> {
    this.lastRelistStart = this.now();
    const [sandboxes, containers] = await Promise.all([
      this.opts.cri.listPodSandbox(undefined, { signal, timeoutMs: 30_000 }),
      this.opts.cri.listContainers(undefined, { signal, timeoutMs: 30_000 }),
    ]);
    const next = new Map<string, Record_>();
    const pods = new Map<string, RuntimePodRef>();
    const podRef = (uid: string, labels: Record<string, string>) => {
      let p = pods.get(uid);
      if (!p) {
        p = {
          uid,
          name: labels[LABEL_POD_NAME] ?? '',
          namespace: labels[LABEL_POD_NAMESPACE] ?? '',
          sandboxIds: [],
          containerIds: [],
          runningContainers: 0,
          readySandboxes: 0,
        };
        pods.set(uid, p);
      }
      return p;
    };
    for (const sb of sandboxes) {
      const uid = sb.labels[LABEL_POD_UID] ?? sb.metadata?.uid;
      if (!uid) continue;
      const ready = sandboxReady(sb.state);
      next.set(sb.id, { podUid: uid, state: ready ? 'running' : 'exited' });
      const p = podRef(uid, sb.labels);
      p.sandboxIds.push(sb.id);
      if (ready) p.readySandboxes++;
    }
    for (const c of containers) {
      const uid = c.labels[LABEL_POD_UID];
      if (!uid) continue;
      const st = toContainerState(c.state);
      const plain: Plain = st === 'running' ? 'running' : st === 'exited' ? 'exited' : 'unknown';
      next.set(c.id, { podUid: uid, state: plain });
      const p = podRef(uid, c.labels);
      p.containerIds.push(c.id);
      if (plain === 'running') p.runningContainers++;
    }

    const emit = (podUid: string, type: PlegEventType, id: string) => {
      const ev = { podUid, type, id };
      try {
        this.opts.onEvent?.(ev);
      } catch (err) {
        this.log.error({ err: String(err) }, 'PLEG event handler threw');
      }
      this.listeners.emit(ev);
    };
    for (const [id, rec] of next) {
      const old = this.records.get(id);
      if (old?.state === rec.state) continue;
      if (rec.state === 'running') emit(rec.podUid, 'ContainerStarted', id);
      else if (rec.state === 'exited') emit(rec.podUid, 'ContainerDied', id);
      else emit(rec.podUid, 'ContainerChanged', id);
    }
    for (const [id, old] of this.records) {
      if (next.has(id)) continue;
      if (old.state !== 'exited') emit(old.podUid, 'ContainerDied', id);
      emit(old.podUid, 'ContainerRemoved', id);
    }
    this.records = next;
    this.pods = pods;
    this.relisted = true;
    this.lastRelistOk = this.now();
  }

  get lastSuccessfulRelist(): number {
    return this.lastRelistOk;
  }

  private async watchEvents(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted && failures < 5) {
      try {
        for await (const _ev of this.opts.cri.containerEvents(signal)) {
          if (!this.evented) {
            this.evented = true;
            this.log.info('using the runtime container event stream (evented PLEG)');
          }
          this.relistSoon();
        }
        if (signal.aborted) return;
        failures++;
      } catch (err) {
        if (err instanceof CriError && err.kind === 'Unimplemented') {
          this.log.info('runtime has no container event stream; PLEG relists every second');
          return;
        }
        failures++;
        this.log.warn({ err: String(err) }, 'container event stream failed');
      }
      this.evented = false;
      this.relistSoon();
      await sleep(1_000, signal).catch(() => {});
    }
    this.evented = false;
  }
}
