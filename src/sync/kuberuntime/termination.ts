import { containerRef, isSidecar, podContainerSpec, podRef } from '../../api/pod.js';
import type { Container, Pod } from '../../api/types.js';
import { isCriNotFound, runtimeErrorMessage } from '../../cri/errors.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../../cri/runtimeState.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { podDesc } from '../criConfig.js';
import { SyncError } from '../errors.js';
import { type LifecycleHandler, MIN_GRACE_SECONDS, type SyncerDeps } from './types.js';

/** The grace period for killing one container (upstream killContainer's rules). */
export function containerGrace(pod: Pod, name: string, reason = ''): number {
  const dgp = pod.metadata?.deletionGracePeriodSeconds;
  if (dgp !== undefined && dgp !== null) return dgp;
  const c = podContainerSpec(pod, name);
  if (reason === 'LivenessProbe' && c?.livenessProbe?.terminationGracePeriodSeconds != null) {
    return c.livenessProbe.terminationGracePeriodSeconds;
  }
  if (reason === 'StartupProbe' && c?.startupProbe?.terminationGracePeriodSeconds != null) {
    return c.startupProbe.terminationGracePeriodSeconds;
  }
  return pod.spec?.terminationGracePeriodSeconds ?? 30;
}

/**
 * Stopping containers and pods (upstream kuberuntime_container.go killContainer, KillPod and
 * executePreStopHook).
 */
export class PodTerminator {
  private readonly d: Pick<SyncerDeps, 'cri' | 'events' | 'hooks'>;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(d: Pick<SyncerDeps, 'cri' | 'events' | 'hooks' | 'logger' | 'now'>) {
    this.d = d;
    this.log = d.logger ?? silentLogger;
    this.now = d.now ?? Date.now;
  }

  /**
   * Stops one container (upstream killContainer): Killing event; the preStop hook, if any, within
   * the grace period, which it shortens by the whole seconds it took; with `ordering`, the wait
   * for this container's turn (sidecars after the regular containers and later sidecars), which
   * shortens it again; then StopContainer (SIGTERM, SIGKILL after at least 2 s).
   */
  async killContainer(
    pod: Pod,
    s: Pick<ContainerRuntimeStatus, 'id' | 'name'>,
    graceSeconds: number,
    message: string | undefined,
    signal?: AbortSignal,
    opts: { podIPs?: readonly string[]; ordering?: TerminationOrdering } = {},
  ): Promise<void> {
    const spec = podContainerSpec(pod, s.name);
    if (spec)
      this.d.events.event(
        containerRef(pod, spec.name),
        'Normal',
        'Killing',
        message ?? `Stopping container ${s.name}`,
      );
    let grace = Math.floor(graceSeconds);
    const preStop = spec?.lifecycle?.preStop;
    if (spec && preStop && grace > 0 && this.d.hooks) {
      grace -= await this.runPreStop(pod, spec, s.id, preStop, grace, opts.podIPs ?? [], signal);
    }
    if (opts.ordering && grace > 0) grace -= Math.floor(await opts.ordering.waitForTurn(s.name, grace));
    grace = Math.max(MIN_GRACE_SECONDS, grace);
    try {
      await this.d.cri.stopContainer(s.id, grace, { signal });
    } catch (err) {
      if (!isCriNotFound(err)) {
        throw new SyncError(
          'KillContainerError',
          `failed to kill container "${s.name}": ${runtimeErrorMessage(err)}`,
          {
            cause: err,
          },
        );
      }
    }
    opts.ordering?.containerTerminated(s.name);
  }

  /**
   * Runs a preStop hook, waiting at most `graceSeconds` for it (upstream executePreStopHook: a
   * hook that overruns keeps running while the container is stopped). Returns the whole
   * seconds spent.
   */
  private async runPreStop(
    pod: Pod,
    spec: Container,
    id: string,
    handler: LifecycleHandler,
    graceSeconds: number,
    podIPs: readonly string[],
    signal?: AbortSignal,
  ): Promise<number> {
    const hooks = this.d.hooks;
    if (!hooks) return 0;
    const started = this.now();
    const failed = (message: string) => {
      this.log.info({ pod: podDesc(pod), container: spec.name, msg: message }, 'PreStop hook failed');
      // Never the hook's message: it may carry secrets.
      this.d.events.event(containerRef(pod, spec.name), 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
    };
    const hook = hooks.run({ pod, container: spec, containerId: id, handler, podIPs }, signal).then(
      (o) => {
        if (!o.ok) failed(o.message);
      },
      (err) => failed(runtimeErrorMessage(err)),
    );
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceSeconds * 1000);
    });
    await Promise.race([hook, expired]);
    clearTimeout(timer);
    return Math.floor((this.now() - started) / 1000);
  }

  /**
   * Kills the whole pod (upstream KillPod): every container at once, each with its own grace
   * period and preStop hook; when the pod has sidecars, each sidecar's stop waits (within its
   * grace) until the regular containers and the sidecars declared after it have stopped, so
   * they stop in reverse order after the main containers. Then StopPodSandbox for every
   * sandbox. `graceOverride` (seconds) replaces each container's grace (deletion, eviction,
   * orphans).
   */
  async killPodContainers(
    pod: Pod,
    rt: PodRuntimeStatus | undefined,
    graceOverride: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const running = (rt?.containers ?? []).filter(
      (c) => c.state === 'running' || c.state === 'created' || c.state === 'unknown',
    );
    const ordering = (pod.spec?.initContainers ?? []).some(isSidecar)
      ? new TerminationOrdering(
          pod,
          running.map((c) => c.name),
          this.now,
        )
      : undefined;
    const graceOf = (name: string) => graceOverride ?? containerGrace(pod, name);
    const errors: unknown[] = [];
    await Promise.all(
      running.map((c) =>
        this.killContainer(pod, c, graceOf(c.name), undefined, signal, {
          podIPs: rt?.ips ?? [],
          ordering,
        }).catch((e) => errors.push(e)),
      ),
    );
    for (const sb of rt?.sandboxes ?? []) {
      try {
        await this.d.cri.stopPodSandbox(sb.id, { signal });
      } catch (err) {
        if (!isCriNotFound(err)) errors.push(err);
      }
    }
    if (errors.length > 0) {
      const msg = `error killing pod: ${errors.map(runtimeErrorMessage).join('; ')}`;
      this.d.events.event(podRef(pod), 'Warning', 'FailedKillPod', msg);
      throw new SyncError('KillPodError', msg);
    }
  }
}

/**
 * Upstream terminationOrdering (kuberuntime_termination_order.go): each sidecar may stop only
 * once every regular container and the sidecar declared after it have terminated; containers
 * that are not running count as terminated from the start.
 */
export class TerminationOrdering {
  private readonly terminated = new Map<string, { done: Promise<void>; resolve: () => void }>();
  private readonly prereqs = new Map<string, Promise<void>[]>();

  constructor(
    pod: Pod,
    runningNames: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    const running = new Set(runningNames);
    const mark = (name: string) => {
      let resolve = () => {};
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      const entry = { done, resolve };
      this.terminated.set(name, entry);
      if (!running.has(name)) resolve();
      return entry;
    };
    const mains = (pod.spec?.containers ?? []).map((c) => mark(c.name).done);
    let later: Promise<void> | undefined;
    for (const c of [...(pod.spec?.initContainers ?? [])].reverse()) {
      const entry = mark(c.name);
      if (!isSidecar(c)) continue;
      this.prereqs.set(c.name, later ? [...mains, later] : mains);
      later = entry.done;
    }
  }

  /** Waits until it is `name`'s turn to stop, at most `graceSeconds`; returns the seconds waited. */
  async waitForTurn(name: string, graceSeconds: number): Promise<number> {
    if (graceSeconds <= 0) return 0;
    const started = this.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceSeconds * 1000);
    });
    await Promise.race([Promise.all(this.prereqs.get(name) ?? []), expired]);
    clearTimeout(timer);
    return (this.now() - started) / 1000;
  }

  containerTerminated(name: string): void {
    this.terminated.get(name)?.resolve();
  }
}
