/**
 * The eviction manager (upstream pkg/kubelet/eviction/eviction_manager.go): every monitoring
 * interval (10 s) — and at once when the pressure monitor sees memory pressure building — it
 * collects stats, decides with the pure helpers which thresholds are met, reports the node
 * pressure conditions, reclaims node-level resources for disk pressure, and evicts at most one
 * pod per round through the pod workers (killPod with an Evicted status), then waits for that
 * pod to be cleaned up before the next round.
 */
import type { ObjectRef } from '../api/events.js';
import { isCriticalPod, podKObj, podRef } from '../api/pod.js';
import type { Pod } from '../api/types.js';
import { onAbort } from '../util/abort.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import {
  EVICTED_REASON,
  evictionMessage,
  THRESHOLD_MET_EVENT,
  thresholdMetEventMessage,
} from './messages.js';
import type { NodePressure, PressureFlags } from './pressure.js';
import { rankingFor, rankPods } from './ranking.js';
import { makeSignalObservations } from './signals.js';
import {
  type FirstObserved,
  isHardThreshold,
  mergeThresholds,
  nodeConditions,
  nodeConditionsLastObservedAt,
  nodeConditionsObservedSince,
  reclaimableThreshold,
  sortByEvictionPriority,
  thresholdsFirstObservedAt,
  thresholdsMet,
  thresholdsMetGracePeriod,
  thresholdsUpdatedStats,
} from './thresholds.js';
import type {
  EvictionSignal,
  EvictionThreshold,
  Observation,
  Observations,
  PressureCondition,
  Summary,
} from './types.js';

/** Upstream immediateEvictionGracePeriodSeconds (hard thresholds). */
export const IMMEDIATE_EVICTION_GRACE_SECONDS = 1;
export const MONITORING_INTERVAL_MS = 10_000;
/** Upstream podCleanupPollFreq / podCleanupTimeout. */
export const POD_CLEANUP_POLL_MS = 1_000;
export const POD_CLEANUP_TIMEOUT_MS = 30_000;

export type { PressureFlags } from './pressure.js';

export interface EvictionKill {
  graceSeconds: number;
  status: { reason: string; message: string; disruptionTarget: true };
}

/** Where events go: an EventRecorder fits; a recorder that understands `annotations` stores them. */
export interface EvictionEventSink {
  event(
    ref: ObjectRef,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    annotations?: Record<string, string>,
  ): void;
}

export interface NodeReclaim {
  deleteAllUnusedContainers(signal?: AbortSignal): Promise<unknown>;
  deleteUnusedImages(signal?: AbortSignal): Promise<unknown>;
}

export interface EvictionManagerOptions {
  nodeName: string;
  thresholds: readonly EvictionThreshold[];
  pressureTransitionPeriodMs: number;
  maxPodGracePeriodSeconds: number;
  stats: { summary(signal?: AbortSignal): Promise<Summary> };
  /** Admitted, not yet finished pods. */
  activePods: () => readonly Pod[];
  /** Asks the pod workers to kill the pod with this status (must not block). */
  killPod: (pod: Pod, kill: EvictionKill) => void;
  /** True once the pod's worker has finished terminating it. */
  podCleanedUp: (uid: string) => boolean;
  events?: EvictionEventSink;
  /** Dead containers and unused images, tried before evicting for disk pressure. */
  reclaim?: NodeReclaim;
  /** Called when the reported pressure conditions change (e.g. to update the Node at once). */
  onPressureChange?: (flags: PressureFlags) => void;
  /** Where the decided conditions are published for admission and the node status. */
  pressure?: NodePressure;
  monitoringIntervalMs?: number;
  cleanupPollMs?: number;
  cleanupTimeoutMs?: number;
  /** Rounds started by triggers are at least this far apart (default 200 ms). */
  minTriggerGapMs?: number;
  now?: () => number;
  logger?: Logger;
}

export interface EvictionRecord {
  uid: string;
  name: string;
  namespace: string;
  signal: EvictionSignal;
  message: string;
  at: number;
}

export interface EvictionManagerStats {
  rounds: number;
  triggered: Record<string, number>;
  evictions: number;
}

export class EvictionManager {
  private readonly log: Logger;
  private readonly now: () => number;
  private thresholdsMetState: EvictionThreshold[] = [];
  private firstObserved: FirstObserved = [];
  private conditionsObservedAt = new Map<PressureCondition, number>();
  private conditions: PressureCondition[] = [];
  private lastObservations: Observations = new Map();
  private wake: (() => void) | undefined;
  private pending = false;
  private lastRoundAt = Number.NEGATIVE_INFINITY;
  /** Evictions so far, newest last (kept short). */
  readonly evictions: EvictionRecord[] = [];
  private readonly counters: EvictionManagerStats = { rounds: 0, triggered: {}, evictions: 0 };

  constructor(private readonly o: EvictionManagerOptions) {
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
  }

  get stats(): Readonly<EvictionManagerStats> {
    return { ...this.counters, triggered: { ...this.counters.triggered } };
  }

  /** The node conditions to report (MemoryPressure, DiskPressure, PIDPressure). */
  nodeConditions(): readonly PressureCondition[] {
    return this.conditions;
  }

  pressure(): PressureFlags {
    return {
      memory: this.conditions.includes('MemoryPressure'),
      disk: this.conditions.includes('DiskPressure'),
      pid: this.conditions.includes('PIDPressure'),
    };
  }

  /** Observations of the last round (for tests, benches and debugging). */
  observations(): ReadonlyMap<EvictionSignal, Observation> {
    return this.lastObservations;
  }

  /** Runs a round as soon as possible (the pressure monitor saw something). */
  trigger(reason: string): void {
    this.counters.triggered[reason] = (this.counters.triggered[reason] ?? 0) + 1;
    this.pending = true;
    this.wake?.();
  }

  /** Upstream Start's loop: round, then (after an eviction) wait for cleanup, else sleep. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.o.thresholds.length === 0) return;
    while (!signal.aborted) {
      let evicted: Pod | undefined;
      try {
        evicted = await this.synchronize(signal);
      } catch (err) {
        if (!signal.aborted)
          this.log.error({ err: errorMessage(err) }, 'Eviction manager: failed to synchronize');
      }
      if (signal.aborted) break;
      if (evicted) await this.waitForPodCleanup(evicted, signal);
      else await this.waitOrTrigger(signal);
    }
  }

  /** One round (upstream synchronize). Returns the evicted pod, if any. */
  async synchronize(signal?: AbortSignal): Promise<Pod | undefined> {
    const cfg = this.o.thresholds;
    if (cfg.length === 0) return undefined;
    this.counters.rounds++;
    this.lastRoundAt = this.now();
    this.pending = false;
    const activePods = this.o.activePods();
    const summary = await this.o.stats.summary(signal);
    const observations = makeSignalObservations(summary);
    const statsFunc = (uid: string) => summary.pods.find((p) => p.uid === uid);

    let thresholds = thresholdsMet(cfg, observations, false);
    if (this.thresholdsMetState.length > 0) {
      thresholds = mergeThresholds(thresholds, thresholdsMet(this.thresholdsMetState, observations, true));
    }
    const now = this.now();
    const firstObserved = thresholdsFirstObservedAt(thresholds, this.firstObserved, now);
    const observedAt = nodeConditionsLastObservedAt(
      nodeConditions(thresholds),
      this.conditionsObservedAt,
      now,
    );
    const conditions = nodeConditionsObservedSince(observedAt, this.o.pressureTransitionPeriodMs, now);
    thresholds = thresholdsMetGracePeriod(firstObserved, now);

    const changed = conditions.join() !== this.conditions.join();
    this.conditions = conditions;
    this.firstObserved = firstObserved;
    this.conditionsObservedAt = observedAt;
    this.thresholdsMetState = thresholds;
    thresholds = thresholdsUpdatedStats(thresholds, observations, this.lastObservations);
    this.lastObservations = observations;
    if (changed) {
      this.log.info({ conditions }, 'Eviction manager: node pressure conditions changed');
      this.o.pressure?.set(conditions);
      this.o.onPressureChange?.(this.pressure());
    }

    if (thresholds.length === 0) return undefined;
    const sorted = sortByEvictionPriority(thresholds);
    const reclaim = reclaimableThreshold(sorted);
    if (!reclaim) return undefined;
    const { threshold, resource } = reclaim;
    this.log.info({ resource, signal: threshold.signal }, 'Eviction manager: attempting to reclaim');
    this.o.events?.event(
      { kind: 'Node', name: this.o.nodeName, uid: this.o.nodeName },
      'Warning',
      THRESHOLD_MET_EVENT,
      thresholdMetEventMessage(resource),
    );

    if (await this.reclaimNodeLevelResources(threshold.signal, signal)) {
      this.log.info({ resource }, 'Eviction manager: able to reduce resource pressure without evicting pods');
      return undefined;
    }
    const rank = rankingFor(threshold.signal, resource, statsFunc);
    if (!rank) return undefined;
    if (activePods.length === 0) {
      this.log.error('Eviction manager: eviction thresholds have been met, but no pods are active to evict');
      return undefined;
    }
    const ranked = rankPods(activePods, rank);
    for (const pod of ranked) {
      if (isCriticalPod(pod)) {
        this.log.error({ pod: podKObj(pod) }, 'Eviction manager: cannot evict a critical pod');
        continue;
      }
      let grace = IMMEDIATE_EVICTION_GRACE_SECONDS;
      if (!isHardThreshold(threshold)) {
        grace = Math.min(this.o.maxPodGracePeriodSeconds, pod.spec?.terminationGracePeriodSeconds ?? 30);
      }
      const uid = pod.metadata?.uid ?? '';
      const { message, annotations } = evictionMessage(resource, pod, statsFunc(uid), sorted, observations);
      this.o.events?.event(podRef(pod), 'Warning', EVICTED_REASON, message, annotations);
      this.log.info({ pod: podKObj(pod), uid, message }, 'Evicting pod');
      this.o.killPod(pod, {
        graceSeconds: grace,
        status: { reason: EVICTED_REASON, message, disruptionTarget: true },
      });
      this.counters.evictions++;
      this.evictions.push({
        uid,
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        signal: threshold.signal,
        message,
        at: this.now(),
      });
      if (this.evictions.length > 100) this.evictions.shift();
      return pod;
    }
    this.log.info('Eviction manager: unable to evict any pods from the node');
    return undefined;
  }

  private async reclaimNodeLevelResources(sig: EvictionSignal, signal?: AbortSignal): Promise<boolean> {
    const r = this.o.reclaim;
    if (!r || !/^(nodefs|imagefs|containerfs)\./.test(sig)) return false;
    for (const f of [() => r.deleteAllUnusedContainers(signal), () => r.deleteUnusedImages(signal)]) {
      await f().catch((err) =>
        this.log.info(
          { err: errorMessage(err) },
          'Eviction manager: unexpected error when attempting to reduce resource pressure',
        ),
      );
    }
    const summary = await this.o.stats.summary(signal);
    return thresholdsMet(this.o.thresholds, makeSignalObservations(summary), true).length === 0;
  }

  private async waitForPodCleanup(pod: Pod, signal: AbortSignal): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const poll = this.o.cleanupPollMs ?? POD_CLEANUP_POLL_MS;
    const deadline = this.now() + (this.o.cleanupTimeoutMs ?? POD_CLEANUP_TIMEOUT_MS);
    while (!signal.aborted && this.now() < deadline) {
      await this.sleep(poll, signal, false);
      if (this.o.podCleanedUp(uid)) {
        this.log.info({ pod: podKObj(pod) }, 'Eviction manager: pod is evicted successfully');
        return;
      }
    }
    if (!signal.aborted)
      this.log.warn({ pod: podKObj(pod) }, 'Eviction manager: timed out waiting for pods to be cleaned up');
  }

  private async waitOrTrigger(signal: AbortSignal): Promise<void> {
    const gap = this.o.minTriggerGapMs ?? 200;
    if (this.pending) {
      const wait = this.lastRoundAt + gap - this.now();
      if (wait > 0) await this.sleep(wait, signal, false);
      return;
    }
    await this.sleep(this.o.monitoringIntervalMs ?? MONITORING_INTERVAL_MS, signal, true);
    if (this.pending) {
      const wait = this.lastRoundAt + gap - this.now();
      if (wait > 0) await this.sleep(wait, signal, false);
    }
  }

  private sleep(ms: number, signal: AbortSignal, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      let detach = () => {};
      const done = () => {
        clearTimeout(timer);
        detach();
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      detach = onAbort(signal, done);
      if (wakeable) this.wake = done;
    });
  }
}
