import { isPodTerminal } from '../api/pod.js';
import type { Pod } from '../api/types.js';
import type { RuntimePodRef } from '../cri/pleg.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';

export type WorkerState = 'sync' | 'terminating' | 'terminated' | 'finished';

/** Why a pod is being killed by the kubelet itself (eviction, deadline, orphan). */
export interface KillRequest {
  /** Grace period override in seconds. */
  graceSeconds?: number;
  /** Status to report while and after killing (e.g. Evicted). */
  status?: { reason: string; message: string; disruptionTarget?: boolean; conditionMessage?: string };
}

export interface SyncOutcome {
  /** The generated phase is terminal: move to terminating. */
  terminal: boolean;
  /** When to sync again (ms), absent for the default resync. */
  requeueAfterMs?: number;
}

export interface WorkerHandlers {
  syncPod(pod: Pod, signal: AbortSignal): Promise<SyncOutcome>;
  syncTerminatingPod(
    pod: Pod,
    graceSeconds: number,
    kill: KillRequest | undefined,
    signal: AbortSignal,
  ): Promise<void>;
  syncTerminatedPod(pod: Pod, kill: KillRequest | undefined, signal: AbortSignal): Promise<void>;
  syncTerminatingRuntimePod(ref: RuntimePodRef, signal: AbortSignal): Promise<void>;
}

export interface PodWorkersOptions {
  handlers: WorkerHandlers;
  logger?: Logger;
  /** Default resync after a successful sync: syncFrequency (1 min) with jitter factor 0.5. */
  resyncMs?: number;
  /** Retry after a failed sync (upstream backOffPeriod 10 s, jittered). */
  errorBackoffMs?: number;
}

interface Worker {
  uid: string;
  pod?: Pod;
  runtimePod?: RuntimePodRef;
  state: WorkerState;
  graceSeconds?: number;
  kill?: KillRequest;
  pending: boolean;
  running: boolean;
  syncAbort?: AbortController;
  timer?: NodeJS.Timeout;
  startedAt: number;
}

const jitter = (ms: number, factor: number) => ms + Math.random() * factor * ms;

/**
 * One worker per pod UID (upstream podWorkers): updates are coalesced (only the newest pod spec
 * is processed; never two syncs of one pod at once), and each pod moves
 * sync → terminating → terminated → finished. The number of workers is bounded by the pods the
 * API and the runtime know; housekeeping forgets finished ones.
 */
export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly o: PodWorkersOptions) {
    this.log = o.logger ?? silentLogger;
  }

  get size(): number {
    return this.workers.size;
  }

  state(uid: string): WorkerState | undefined {
    return this.workers.get(uid)?.state;
  }

  /** UIDs of every worker that is not finished. */
  activeUids(): string[] {
    return [...this.workers.values()].filter((w) => w.state !== 'finished').map((w) => w.uid);
  }

  uids(): string[] {
    return [...this.workers.keys()];
  }

  /** Delivers the newest pod (and optionally a kill request) to its worker. */
  update(uid: string, u: { pod?: Pod; runtimePod?: RuntimePodRef; kill?: KillRequest }): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = { uid, state: 'sync', pending: false, running: false, startedAt: Date.now() };
      this.workers.set(uid, w);
    }
    if (w.state === 'finished') return;
    if (u.pod) w.pod = u.pod;
    if (u.runtimePod) w.runtimePod = u.runtimePod;
    const pod = w.pod;
    const wantsTermination =
      u.kill !== undefined || !pod || pod.metadata?.deletionTimestamp || isPodTerminal(pod);
    if (wantsTermination) {
      const grace = this.effectiveGrace(w, pod, u.kill);
      const shortened = w.graceSeconds !== undefined && grace < w.graceSeconds;
      w.graceSeconds = grace;
      if (u.kill) w.kill = { ...w.kill, ...u.kill };
      if (w.state === 'sync') {
        w.state = 'terminating';
        w.syncAbort?.abort(new Error('pod is terminating'));
      } else if (w.state === 'terminating' && shortened) {
        w.syncAbort?.abort(new Error('grace period shortened'));
      }
    }
    this.kick(w);
  }

  /** Asks for a sync soon (PLEG event, probe result, timer). */
  syncSoon(uid: string): void {
    const w = this.workers.get(uid);
    if (w && w.state !== 'finished') this.kick(w);
  }

  /** Drops a finished worker (its pod is gone from the API). */
  forget(uid: string): void {
    const w = this.workers.get(uid);
    if (!w) return;
    if (w.timer) clearTimeout(w.timer);
    w.syncAbort?.abort(new Error('forgotten'));
    this.workers.delete(uid);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) {
      if (w.timer) clearTimeout(w.timer);
      w.syncAbort?.abort(new Error('kubelet stopping'));
    }
  }

  /** Upstream's effective grace: only ever decreases, never below 1 s. */
  private effectiveGrace(w: Worker, pod: Pod | undefined, kill: KillRequest | undefined): number {
    let g = w.graceSeconds;
    const dgp = pod?.metadata?.deletionGracePeriodSeconds;
    if (dgp !== undefined && dgp !== null && (g === undefined || dgp < g)) g = dgp;
    if (kill?.graceSeconds !== undefined && (g === undefined || kill.graceSeconds < g)) g = kill.graceSeconds;
    if (g === undefined) g = pod?.spec?.terminationGracePeriodSeconds ?? (pod ? 30 : 1);
    return Math.max(1, g);
  }

  private kick(w: Worker): void {
    w.pending = true;
    if (w.timer) {
      clearTimeout(w.timer);
      w.timer = undefined;
    }
    if (!w.running) void this.loop(w);
  }

  private requeue(w: Worker, ms: number): void {
    if (this.stopped || w.state === 'finished') return;
    if (w.timer) clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      w.timer = undefined;
      this.kick(w);
    }, ms);
    w.timer.unref?.();
  }

  private async loop(w: Worker): Promise<void> {
    w.running = true;
    try {
      while (w.pending && !this.stopped) {
        w.pending = false;
        const ac = new AbortController();
        w.syncAbort = ac;
        const state = w.state;
        try {
          if (state === 'sync' && w.pod) {
            const out = await this.o.handlers.syncPod(w.pod, ac.signal);
            if (out.terminal && w.state === 'sync') {
              w.state = 'terminating';
              w.graceSeconds = this.effectiveGrace(w, w.pod, undefined);
              w.pending = true;
            } else if (w.state === 'sync') {
              this.requeue(w, out.requeueAfterMs ?? jitter(this.o.resyncMs ?? 60_000, 0.5));
            }
          } else if (state === 'terminating') {
            if (w.pod) {
              await this.o.handlers.syncTerminatingPod(w.pod, w.graceSeconds ?? 1, w.kill, ac.signal);
            } else if (w.runtimePod) {
              await this.o.handlers.syncTerminatingRuntimePod(w.runtimePod, ac.signal);
            }
            if (!ac.signal.aborted) {
              w.state = w.pod ? 'terminated' : 'finished';
              w.pending = true;
            }
          } else if (state === 'terminated' && w.pod) {
            await this.o.handlers.syncTerminatedPod(w.pod, w.kill, ac.signal);
            w.state = 'finished';
          }
        } catch (err) {
          if (ac.signal.aborted) {
            // A newer update (termination, shorter grace) cancelled this pass: run again at once.
            w.pending = true;
            continue;
          }
          const retry = jitter(this.o.errorBackoffMs ?? 10_000, 0.5);
          this.log.warn(
            { pod: podName(w), uid: w.uid, state, err: errorMessage(err) },
            'pod sync failed; will retry',
          );
          if (state === 'sync') this.requeue(w, retry);
          else this.requeue(w, Math.min(retry, 2_000));
        } finally {
          if (w.syncAbort === ac) w.syncAbort = undefined;
        }
      }
    } finally {
      w.running = false;
    }
  }
}

function podName(w: Worker): string {
  const p = w.pod;
  if (p) return `${p.metadata?.namespace}/${p.metadata?.name}`;
  return w.runtimePod ? `${w.runtimePod.namespace}/${w.runtimePod.name}` : w.uid;
}
