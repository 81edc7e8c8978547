import { containerShouldRestart, isSidecar } from '../api/pod.js';
import type { Logger } from '../util/log.js';
import type { Semaphore } from '../util/semaphore.js';
import type { ExecRunner } from './exec.js';
import { probeOnce, probeSpecOf } from './prober.js';
import type { ResultsCache } from './results.js';
import {
  MAX_TIMER_MS,
  PROBE_DEFAULTS,
  type ProbeContainer,
  type ProbeContainerStatus,
  type ProbeEventSink,
  type ProbePod,
  type ProbePodStatus,
  type ProbeResult,
  type ProbeSpec,
  type ProbeType,
  probeField,
  runtimeId,
} from './types.js';

/** One probe run, for metrics and benchmarks. */
export interface ProbeRunMetric {
  type: ProbeType;
  podUid: string;
  container: string;
  /** ms from the tick (or manual trigger) until the run started. */
  lagMs: number;
  /** ms waiting for a concurrency slot. */
  waitMs: number;
  /** ms the probe itself took (retries included). */
  durationMs: number;
  result: 'Success' | 'Failure' | 'Error';
}

/** What a worker needs from its manager. */
export interface WorkerHost {
  readonly exec: ExecRunner;
  readonly events: ProbeEventSink;
  readonly limiter: Semaphore;
  readonly log: Logger;
  /** When the manager started (epoch ms): workers created within one period of it start with jitter. */
  readonly startedAt: number;
  now(): number;
  podStatus(uid: string): ProbePodStatus | undefined;
  results(type: ProbeType): ResultsCache;
  removeWorker(w: ProbeWorker): void;
  observe?(m: ProbeRunMetric): void;
}

/** Upstream's grace around the kubelet's start for "this container predates the kubelet". */
const ADOPTION_GRACE_MS = 10_000;

const INITIAL: Record<ProbeType, ProbeResult> = {
  readiness: 'Failure',
  liveness: 'Success',
  startup: 'Unknown',
};

function findStatus(list: ProbeContainerStatus[] | undefined, name: string) {
  const s = list?.find((c) => c.name === name);
  return s?.containerID ? s : undefined;
}

/**
 * Probes one container with one probe type on its own timer (upstream prober worker): a first
 * run at once (after a random fraction of the period when the kubelet started less than a
 * period ago), then on a fixed period grid. At most one run is in flight: a run that overruns
 * its period is followed by at most one catch-up run, never a queue. Runs share the manager's
 * concurrency limit.
 */
export class ProbeWorker {
  readonly spec: ProbeSpec;
  containerId = '';
  private lastResult: 'Success' | 'Failure' | undefined;
  private resultRun = 0;
  private onHold = false;
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  /** Tick k of the period grid is due at anchor + k × period. */
  private anchor = 0;
  /** The next grid tick that has not run yet. */
  private tick = 0;
  private lastRunStart = 0;
  private running = false;
  private manualPending = false;
  /** The run in progress was a manual trigger, not a tick. */
  private manualRun = false;
  private stopped = false;
  private cleaned = false;
  private runAbort: AbortController | undefined;

  constructor(
    private readonly host: WorkerHost,
    readonly type: ProbeType,
    public pod: ProbePod,
    readonly container: ProbeContainer,
  ) {
    const spec = probeSpecOf(container, type);
    if (!spec) throw new Error(`container ${container.name} has no ${type} probe`);
    this.spec = spec;
  }

  get podUid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  get periodMs(): number {
    return probeField(this.spec.periodSeconds, PROBE_DEFAULTS.periodSeconds) * 1000;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    const now = this.host.now();
    const period = this.periodMs;
    // After a kubelet restart every worker starts at once: spread them over one period.
    const delay = period > now - this.host.startedAt ? Math.random() * period : 0;
    this.anchor = now + delay;
    this.tick = 0;
    this.schedule(delay);
  }

  /** Runs the probe as soon as possible (upstream manualTriggerCh; coalesced). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.manualPending = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.manualRun = true;
    this.schedule(0);
  }

  /** Stops the worker; its results are removed once no run is in flight. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.runAbort?.abort(new Error('probe worker stopped'));
    if (!this.running) this.cleanup();
  }

  private schedule(delayMs: number): void {
    this.dueAt = this.host.now() + delayMs;
    this.arm(delayMs);
  }

  /** A timer for `delayMs`, in steps Node can time (a longer setTimeout fires at once). */
  private arm(delayMs: number): void {
    const step = Math.min(delayMs, MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      if (delayMs > step) this.arm(delayMs - step);
      else void this.run();
    }, step);
    this.timer.unref?.();
  }

  /**
   * Sets the timer for the pending tick, like Go's time.Ticker: when runs overran one or more
   * ticks, the latest of them fires at once and the others are dropped.
   */
  private schedulePendingTick(): void {
    const period = this.periodMs;
    const now = this.host.now();
    const due = this.anchor + this.tick * period;
    if (due <= now) {
      this.tick = Math.max(this.tick, Math.floor((now - this.anchor) / period));
      this.schedule(0);
      return;
    }
    this.schedule(due - now);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    const manual = this.manualRun;
    this.manualRun = false;
    this.running = true;
    this.lastRunStart = this.host.now();
    let keepGoing = true;
    try {
      keepGoing = await this.doProbe();
    } catch (err) {
      this.host.log.warn(
        { pod: this.podUid, container: this.container.name, probe: this.type, err: String(err) },
        'probe worker error',
      );
    } finally {
      this.running = false;
      this.runAbort = undefined;
    }
    if (this.stopped || !keepGoing) {
      this.stopped = true;
      this.cleanup();
      return;
    }
    if (!manual) this.tick++;
    if (this.manualPending) {
      this.manualPending = false;
      this.manualRun = true;
      this.schedule(0);
      return;
    }
    this.schedulePendingTick();
  }

  private cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    if (this.containerId) this.host.results(this.type).remove(this.containerId);
    this.host.removeWorker(this);
  }

  /** The container was already running 10 s before the kubelet started (a kubelet restart). */
  private adopted(c: ProbeContainerStatus): boolean {
    const startedAt = c.state?.running?.startedAt ? Date.parse(c.state.running.startedAt) : Number.NaN;
    return Number.isFinite(startedAt) && startedAt < this.host.startedAt - ADOPTION_GRACE_MS;
  }

  /** Upstream doProbe with ContainerRestartRules: the container's rules and policy, then the pod's. */
  private willRestart(exitCode: number): boolean {
    return containerShouldRestart(this.container, this.pod.spec ?? {}, exitCode);
  }

  /** One probe (upstream worker.doProbe); returns whether the worker keeps going. */
  private async doProbe(): Promise<boolean> {
    const uid = this.podUid;
    const results = this.host.results(this.type);
    const status = this.host.podStatus(uid);
    if (!status) return true;
    if (status.phase === 'Failed' || status.phase === 'Succeeded') return false;
    const c =
      findStatus(status.containerStatuses, this.container.name) ??
      findStatus(status.initContainerStatuses, this.container.name);
    if (!c) return true;
    const id = runtimeId(c.containerID);
    if (id !== this.containerId) {
      if (this.containerId) results.remove(this.containerId);
      this.containerId = id;
      this.onHold = false;
      if (this.adopted(c) && this.type !== 'liveness') {
        // KEP-4781 (ChangeContainerStatusOnKubeletRestart off, the default since 1.35): a
        // container that ran before this kubelet started keeps its ready/started status until
        // probed again, instead of being reset to not ready / not started. A sidecar that had
        // started counts as started, or initialization could not go on (kubernetes#137146).
        if (this.type === 'startup' && c.started === true && isSidecar(this.container)) {
          results.set(id, 'Success', uid);
        }
      } else {
        results.set(id, INITIAL[this.type], uid);
      }
    }
    if (this.onHold) return true;

    const running = c.state?.running;
    if (!running) {
      results.set(id, 'Failure', uid);
      const terminated = c.state?.terminated;
      return terminated === undefined || this.willRestart(terminated.exitCode);
    }
    if (this.pod.metadata?.deletionTimestamp && (this.type === 'liveness' || this.type === 'startup')) {
      // A quiet shutdown: never kill a container of a pod that is being deleted.
      results.set(id, 'Success', uid);
      return false;
    }
    const startedAt = running.startedAt ? Date.parse(running.startedAt) : Number.NaN;
    const initialDelay = this.spec.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds;
    if (Number.isFinite(startedAt) && Math.floor((this.host.now() - startedAt) / 1000) < initialDelay) {
      return true;
    }
    if (c.started === true) {
      if (this.type === 'startup') return true;
    } else if (this.type !== 'startup') {
      return true;
    }

    const ac = new AbortController();
    this.runAbort = ac;
    const queued = this.host.now();
    let release: () => void;
    try {
      release = await this.host.limiter.acquire(ac.signal);
    } catch {
      return !this.stopped;
    }
    const began = this.host.now();
    let outcome: Awaited<ReturnType<typeof probeOnce>>;
    try {
      outcome = await probeOnce(
        this.host.exec,
        this.host.events,
        this.type,
        { pod: this.pod, container: this.container, containerId: id, podIP: status.podIP ?? '' },
        ac.signal,
      );
    } finally {
      release();
    }
    this.host.observe?.({
      type: this.type,
      podUid: uid,
      container: this.container.name,
      lagMs: Math.max(0, this.lastRunStart - this.dueAt),
      waitMs: began - queued,
      durationMs: this.host.now() - began,
      result: 'error' in outcome ? 'Error' : outcome.result,
    });
    if (this.stopped) return false;
    if ('error' in outcome) return true;

    const result = outcome.result;
    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    const failureThreshold = probeField(this.spec.failureThreshold, PROBE_DEFAULTS.failureThreshold);
    const successThreshold = probeField(this.spec.successThreshold, PROBE_DEFAULTS.successThreshold);
    if (
      (result === 'Failure' && this.resultRun < failureThreshold) ||
      (result === 'Success' && this.resultRun < successThreshold)
    ) {
      return true;
    }
    results.set(id, result, uid);
    if ((this.type === 'liveness' || this.type === 'startup') && result === 'Failure') {
      // The container will be restarted: hold until a new container ID appears.
      this.onHold = true;
      this.resultRun = 0;
    }
    return true;
  }
}
