import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { containerRef } from '../../api/pod.js';
import type { Container } from '../../api/types.js';
import { runtimeErrorMessage } from '../../cri/errors.js';
import type { Backoff } from '../../util/backoff.js';
import { formatDuration } from '../../util/duration.js';
import { expand, lookupIn } from '../../util/expand.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { cpuToMillis, memoryToBytes } from '../../util/quantity.js';
import { lastLogIndex, legacyLogSymlink } from '../containerFiles.js';
import { buildContainerConfig, containerResources, podDesc, verifyRunAsNonRoot } from '../criConfig.js';
import { buildEnv } from '../env.js';
import { BackoffError, SyncError } from '../errors.js';
import type { ImageManager } from '../images.js';
import { oomScoreAdj } from '../qos.js';
import { containerMounts } from './mounts.js';
import type { ReasonCache } from './reasonCache.js';
import { containerGrace, type PodTerminator } from './termination.js';
import {
  type HookOutcome,
  PRIORITY_CREATE,
  PRIORITY_START,
  type StartContext,
  type SyncerDeps,
} from './types.js';

/**
 * Starting one container (upstream kuberuntime_container.go startContainer): CrashLoopBackOff,
 * image, config, create, start, postStart. Records the outcome in the reason cache.
 */
export class ContainerStarter {
  private readonly d: SyncerDeps;
  private readonly terminator: PodTerminator;
  private readonly reasons: ReasonCache;
  private readonly crashBackoff: Backoff;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(d: SyncerDeps, terminator: PodTerminator, reasons: ReasonCache, crashBackoff: Backoff) {
    this.d = d;
    this.terminator = terminator;
    this.reasons = reasons;
    this.crashBackoff = crashBackoff;
    this.log = d.logger ?? silentLogger;
    this.now = d.now ?? Date.now;
  }

  /**
   * Upstream startContainer. `target` is an ephemeral container's targetContainerName: it joins
   * the PID namespace of that container's newest instance, which must exist.
   */
  async start(c: Container, x: StartContext, target?: string): Promise<boolean> {
    const { pod, rt, signal, result } = x;
    const uid = pod.metadata?.uid ?? '';
    const ref = containerRef(pod, c.name);
    const prev = rt?.containers.find((s) => s.name === c.name);
    try {
      if (prev && prev.state === 'exited') {
        const key = `${pod.metadata?.name}_${pod.metadata?.namespace}_${uid}_${c.name}_${prev.hash}`;
        const now = this.now();
        const eventTime = prev.finishedAt || now;
        if (this.crashBackoff.isInBackOffSince(key, eventTime, now)) {
          this.d.events.event(
            ref,
            'Warning',
            'BackOff',
            `Back-off restarting failed container ${c.name} in pod ${podDesc(pod)}`,
          );
          const delay = this.crashBackoff.get(key);
          const retryAt = eventTime + delay;
          result.retryAt = Math.min(result.retryAt ?? retryAt, retryAt);
          throw new BackoffError(
            'CrashLoopBackOff',
            `back-off ${formatDuration(delay)} restarting failed container=${c.name} pod=${podDesc(pod)}`,
          );
        }
        this.crashBackoff.next(key, eventTime);
      }

      let image: Awaited<ReturnType<ImageManager['ensureImage']>>;
      try {
        image = await this.d.images.ensureImage(pod, c, x.sandbox, signal);
      } catch (err) {
        if (err instanceof SyncError) {
          this.d.events.event(ref, 'Warning', 'Failed', `Error: ${err.reason}`);
          if (err instanceof BackoffError) {
            result.retryAt = Math.min(result.retryAt ?? this.now() + 10_000, this.now() + 10_000);
          }
        }
        throw err;
      }

      let restartCount = 0;
      if (prev) restartCount = prev.restartCount + 1;
      else {
        const idx = await lastLogIndex(join(x.sandbox.logDirectory ?? '', c.name));
        if (idx >= 0) restartCount = idx + 1;
      }

      const config = await this.containerConfig(c, x, image, restartCount, target).catch((err) => {
        const e =
          err instanceof SyncError
            ? err
            : new SyncError('CreateContainerConfigError', runtimeErrorMessage(err));
        this.d.events.event(ref, 'Warning', 'Failed', `Error: ${e.message}`);
        throw e;
      });
      await mkdir(join(x.sandbox.logDirectory ?? '', c.name), { recursive: true, mode: 0o755 });

      let id: string;
      try {
        id = await this.d.criLimiter.run(
          () =>
            this.d.cri.createContainer(
              { podSandboxId: x.sandboxId, config, sandboxConfig: x.sandbox },
              { signal },
            ),
          signal,
          PRIORITY_CREATE,
        );
      } catch (err) {
        const msg = runtimeErrorMessage(err);
        this.d.events.event(ref, 'Warning', 'Failed', `Error: ${msg}`);
        throw new SyncError('CreateContainerError', msg);
      }
      result.changed = true;
      this.d.events.event(ref, 'Normal', 'Created', `Created container: ${c.name}`);
      try {
        await this.d.criLimiter.run(() => this.d.cri.startContainer(id, { signal }), signal, PRIORITY_START);
      } catch (err) {
        const msg = runtimeErrorMessage(err);
        this.d.events.event(ref, 'Warning', 'Failed', `Error: ${msg}`);
        throw new SyncError('RunContainerError', msg);
      }
      this.d.events.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
      void legacyLogSymlink(pod, c.name, id, join(x.sandbox.logDirectory ?? '', config.logPath ?? ''));
      await this.runPostStart(c, id, x);
      this.reasons.set(uid, c.name, undefined);
      return true;
    } catch (err) {
      if (signal.aborted) throw err;
      const e = err instanceof SyncError ? err : new SyncError('RunContainerError', runtimeErrorMessage(err));
      this.reasons.set(uid, c.name, { reason: e.reason, message: e.message });
      if (!(e instanceof BackoffError)) result.errors.push(e);
      this.log.debug(
        { pod: podDesc(pod), container: c.name, reason: e.reason, msg: e.message },
        'start failed',
      );
      return false;
    }
  }

  /**
   * The postStart hook, synchronously inside the container start (upstream startContainer step
   * 4): on failure a FailedPostStartHook event, the container is killed (Killing
   * "FailedPostStartHook") and the start fails with PostStartHookError.
   */
  private async runPostStart(c: Container, id: string, x: StartContext): Promise<void> {
    const handler = c.lifecycle?.postStart;
    const hooks = this.d.hooks;
    if (!handler || !hooks) return;
    const { pod, signal } = x;
    const outcome = await hooks
      .run({ pod, container: c, containerId: id, handler, podIPs: x.podIPs }, signal)
      .catch((err): HookOutcome => ({ ok: false, message: runtimeErrorMessage(err) }));
    if (outcome.ok) return;
    if (signal.aborted) throw new SyncError('PostStartHookError', outcome.message);
    this.log.info({ pod: podDesc(pod), container: c.name, msg: outcome.message }, 'PostStart hook failed');
    // Never the hook's message in the event: it may carry secrets.
    this.d.events.event(containerRef(pod, c.name), 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
    await this.terminator
      .killContainer(
        pod,
        { id, name: c.name },
        containerGrace(pod, c.name, 'FailedPostStartHook'),
        'FailedPostStartHook',
        signal,
        { podIPs: x.podIPs },
      )
      .catch((err) =>
        this.log.warn(
          { pod: podDesc(pod), container: c.name, err: runtimeErrorMessage(err) },
          'kill after PostStart failed',
        ),
      );
    throw new SyncError('PostStartHookError', outcome.message);
  }

  private async containerConfig(
    c: Container,
    x: StartContext,
    image: { imageRef: string; uid: number | undefined; username: string },
    restartCount: number,
    target: string | undefined,
  ) {
    const { pod } = x;
    let nsTarget: string | undefined;
    if (target) {
      nsTarget = x.rt?.containers.find((s) => s.name === target)?.id;
      if (!nsTarget)
        throw new SyncError('CreateContainerConfigError', `unable to find target container ${target}`);
    }
    // Upstream order: the environment (and its errors) first, then the non-root check.
    const env = await buildEnv(c, {
      pod,
      nodeName: this.d.config.nodeName,
      hostIPs: this.d.hostIPs(),
      podIPs: x.podIPs,
      lookup: this.d.envLookup,
      allocatable: this.d.config.allocatable,
    });
    const nonRoot = verifyRunAsNonRoot(pod, c, image.uid, image.username);
    if (nonRoot) throw new SyncError('CreateContainerConfigError', nonRoot);
    const look = lookupIn(env);
    const command = (c.command ?? []).map((s) => expand(s, look));
    const args = (c.args ?? []).map((s) => expand(s, look));
    const mounts = await containerMounts(c, x, env);
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    const q = (v: unknown, f: (s: string) => number) => (v === undefined || v === null ? 0 : f(String(v)));
    const resources = containerResources({
      cpuRequestMillis: q(req.cpu, cpuToMillis),
      cpuLimitMillis: q(lim.cpu, cpuToMillis),
      memoryLimitBytes: q(lim.memory, memoryToBytes),
      oomScoreAdj: oomScoreAdj(pod, c, this.d.config.memoryCapacityBytes),
      cpuCfsQuota: this.d.config.cpuCfsQuota,
      cgroupV2: this.d.config.cgroupV2,
    });
    return buildContainerConfig({
      pod,
      container: c,
      restartCount,
      imageRef: image.imageRef,
      env,
      command,
      args,
      mounts,
      resources,
      ...(nsTarget ? { nsTarget } : {}),
    });
  }
}
