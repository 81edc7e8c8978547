import { isSidecar } from '../api/pod.js';
import { Listeners } from '../util/listeners.js';
import { type Logger, silentLogger } from '../util/log.js';
import { Semaphore } from '../util/semaphore.js';
import type { ExecRunner } from './exec.js';
import { ResultsCache, type ResultUpdate } from './results.js';
import {
  type ProbeContainer,
  type ProbeEventSink,
  type ProbePod,
  type ProbePodStatus,
  type ProbeType,
  runtimeId,
} from './types.js';
import { type ProbeRunMetric, ProbeWorker, type WorkerHost } from './worker.js';

export interface ProbeManagerOptions {
  /** ExecSync for exec probes (the CRI client). */
  exec: ExecRunner;
  /** Unhealthy / ProbeWarning events. */
  events: ProbeEventSink;
  /**
   * The pod status the kubelet last stored (container IDs, states, pod IP, started), for pods
   * no status was handed to `statusUpdated` for yet.
   */
  podStatus?: (uid: string) => ProbePodStatus | undefined;
  /**
   * A result changed in a way the pod's sync must see: liveness → Failure, any readiness or
   * startup change (upstream syncLoop's probe channels). Wire it to syncLoop.syncSoon.
   */
  onChange?: (podUid: string, update: ResultUpdate) => void;
  /** Probe runs in flight at once across all pods (default 64). */
  maxConcurrent?: number;
  logger?: Logger;
  now?: () => number;
  /** Called after every probe run (benchmarks, metrics). */
  observe?: (m: ProbeRunMetric) => void;
}

const TYPES: readonly ProbeType[] = ['startup', 'readiness', 'liveness'];

const specOf = (c: ProbeContainer, t: ProbeType) =>
  t === 'liveness' ? c.livenessProbe : t === 'readiness' ? c.readinessProbe : c.startupProbe;

/**
 * Startup, readiness and liveness probing of every container of the pods the kubelet runs
 * (upstream prober_manager): one worker per (pod, container, probe type) for regular containers
 * and sidecars, result caches by container ID, and the views the sync layer reads —
 * `liveness`/`startup` for computePodActions, `started`/`ready` for status generation. It never
 * acts on a container itself: result changes go back through `onChange`.
 */
export class ProbeManager {
  private readonly workers = new Map<string, ProbeWorker>();
  /** The newest status the sync loop stored per pod (read by workers without copying). */
  private readonly statuses = new Map<string, ProbePodStatus>();
  private readonly caches: Record<ProbeType, ResultsCache>;
  private readonly host: WorkerHost;
  private readonly listeners = new Listeners<ResultUpdate>();

  /**
   * Calls `fn` when a result changes in a way the pod's sync must see (liveness → Failure, any
   * readiness or startup change; upstream syncLoop's probe channels).
   */
  subscribe(fn: (update: ResultUpdate) => void): void {
    this.listeners.add(fn);
  }

  constructor(o: ProbeManagerOptions) {
    const now = o.now ?? Date.now;
    const onUpdate = (u: ResultUpdate) => {
      if (u.type === 'liveness' && u.result !== 'Failure') return;
      o.onChange?.(u.podUid, u);
      this.listeners.emit(u);
    };
    this.caches = {
      liveness: new ResultsCache('liveness', onUpdate),
      readiness: new ResultsCache('readiness', onUpdate),
      startup: new ResultsCache('startup', onUpdate),
    };
    const caches = this.caches;
    const workers = this.workers;
    const statuses = this.statuses;
    this.host = {
      exec: o.exec,
      events: o.events,
      limiter: new Semaphore(o.maxConcurrent ?? 64),
      log: o.logger ?? silentLogger,
      startedAt: now(),
      now,
      podStatus: (uid) => statuses.get(uid) ?? o.podStatus?.(uid),
      results: (t) => caches[t],
      removeWorker: (w) => {
        const key = workerKey(w.podUid, w.container.name, w.type);
        if (workers.get(key) === w) workers.delete(key);
      },
      observe: o.observe,
    };
  }

  /** Latest liveness result of a container (Unknown → undefined), for computePodActions. */
  readonly liveness = (containerId: string): 'Success' | 'Failure' | undefined => {
    const r = this.caches.liveness.get(containerId);
    return r === 'Unknown' ? undefined : r;
  };

  /** Latest startup result of a container (Unknown → undefined), for computePodActions. */
  readonly startup = (containerId: string): 'Success' | 'Failure' | undefined => {
    const r = this.caches.startup.get(containerId);
    return r === 'Unknown' ? undefined : r;
  };

  /** Status view: started by the startup probe (undefined: no startup result for this container). */
  readonly started = (containerId: string): boolean | undefined => {
    const r = this.caches.startup.get(containerId);
    return r === undefined ? undefined : r === 'Success';
  };

  /** Status view: ready by the readiness probe (undefined: no readiness result for this container). */
  readonly ready = (containerId: string): boolean | undefined => {
    const r = this.caches.readiness.get(containerId);
    return r === undefined ? undefined : r === 'Success';
  };

  /** Starts workers for every probe of the pod's containers and sidecars (upstream AddPod; idempotent). */
  addPod(pod: ProbePod): void {
    const uid = pod.metadata?.uid ?? '';
    const containers = [
      ...(pod.spec?.initContainers ?? []).filter(isSidecar),
      ...(pod.spec?.containers ?? []),
    ];
    for (const c of containers) {
      for (const t of TYPES) {
        if (!specOf(c, t)) continue;
        const key = workerKey(uid, c.name, t);
        const existing = this.workers.get(key);
        if (existing && !existing.isStopped) {
          existing.pod = pod;
          continue;
        }
        const w = new ProbeWorker(this.host, t, pod, c);
        this.workers.set(key, w);
        w.start();
      }
    }
  }

  /**
   * The kubelet stored a new status for the pod (it must not be mutated afterwards): workers
   * read it from now on, and a readiness worker whose container is started but not yet ready
   * probes at once (upstream UpdatePodStatus' manual trigger).
   */
  statusUpdated(uid: string, status: ProbePodStatus): void {
    this.statuses.set(uid, status);
    for (const s of [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])]) {
      if (!s.state?.running || s.started !== true) continue;
      if (this.caches.readiness.get(runtimeId(s.containerID)) === 'Success') continue;
      this.workers.get(workerKey(uid, s.name, 'readiness'))?.trigger();
    }
  }

  /** Stops liveness and startup probing of a terminating pod (upstream StopLivenessAndStartup). */
  stopLivenessAndStartup(uid: string): void {
    for (const w of this.podWorkers(uid)) if (w.type !== 'readiness') w.stop();
  }

  /** Stops every worker of a pod and drops its results (upstream RemovePod). */
  removePod(uid: string): void {
    for (const w of this.podWorkers(uid)) w.stop();
    this.statuses.delete(uid);
  }

  /** Stops the workers of every pod not in `keep` (upstream CleanupPods). */
  cleanupPods(keep: ReadonlySet<string>): void {
    for (const w of [...this.workers.values()]) if (!keep.has(w.podUid)) w.stop();
    for (const uid of [...this.statuses.keys()]) if (!keep.has(uid)) this.statuses.delete(uid);
  }

  /** Stops everything (kubelet shutdown). */
  stop(): void {
    for (const w of [...this.workers.values()]) w.stop();
    this.statuses.clear();
  }

  get workerCount(): number {
    return this.workers.size;
  }

  /** The workers of a pod (tests, debugging). */
  podWorkers(uid: string): ProbeWorker[] {
    return [...this.workers.values()].filter((w) => w.podUid === uid);
  }
}

function workerKey(uid: string, container: string, type: ProbeType): string {
  return `${uid}/${container}/${type}`;
}
