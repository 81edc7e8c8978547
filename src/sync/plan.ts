import { containerShouldRestart, isSidecar } from '../api/pod.js';
import type { Container, Pod } from '../api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus, SandboxStatus } from '../cri/runtimeState.js';
import { hashContainerValue, parseContainerHash } from './hash.js';

/**
 * PURE: what to do with a pod given its spec and the runtime's view of it — upstream's
 * computePodActions (kuberuntime_manager.go), including the sidecar-aware init container walk.
 * No clock, no I/O. Backoff (CrashLoopBackOff) is applied when a start is attempted.
 */

export type ProbeResult = 'Success' | 'Failure';

export interface PlanInput {
  pod: Pod;
  runtime: PodRuntimeStatus | undefined;
  /** Latest liveness/startup results by container ID (undefined: no result yet). */
  liveness: (containerId: string) => ProbeResult | undefined;
  startup: (containerId: string) => ProbeResult | undefined;
}

export interface KillAction {
  id: string;
  name: string;
  /** For the Killing event. */
  message: string;
  /** LivenessProbe, StartupProbe, Unknown, or ''. */
  reason: string;
}

export interface PodActions {
  /** Kill every container and stop every sandbox of the pod. */
  killPod: boolean;
  createSandbox: boolean;
  /** The sandbox to use (when not creating one) or being replaced. */
  sandboxId: string;
  /** metadata.attempt of the sandbox to create. */
  attempt: number;
  /** An existing sandbox is replaced (SandboxChanged event). */
  sandboxChanged: boolean;
  /** Init containers (regular and sidecars) to start now, in spec order. */
  initContainersToStart: string[];
  /** Regular containers to start, in spec order. */
  containersToStart: string[];
  /** Ephemeral containers to start (never restarted), in spec order (upstream EphemeralContainersToStart). */
  ephemeralContainersToStart: string[];
  containersToKill: KillAction[];
  /** Everything is done: initialization finished (or no init containers). */
  initialized: boolean;
}

const newest = (rt: PodRuntimeStatus | undefined, name: string): ContainerRuntimeStatus | undefined =>
  rt?.containers.find((c) => c.name === name);

/** Upstream PodSandboxChanged: [changed, attempt, sandboxId]. */
export function podSandboxChanged(pod: Pod, rt: PodRuntimeStatus | undefined): [boolean, number, string] {
  const sandboxes: SandboxStatus[] = rt?.sandboxes ?? [];
  const first = sandboxes[0];
  if (!first) return [true, 0, ''];
  const readyCount = sandboxes.filter((s) => s.ready).length;
  if (readyCount > 1) return [true, first.attempt + 1, first.id];
  if (!first.ready) return [true, first.attempt + 1, first.id];
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (first.hostNetwork !== hostNetwork) return [true, first.attempt + 1, first.id];
  if (!hostNetwork && first.ips.length === 0) return [true, first.attempt + 1, first.id];
  return [false, first.attempt, first.id];
}

/**
 * Upstream ShouldContainerBeRestarted (ContainerRestartRules on): an exited container restarts
 * as podutil.ContainerShouldRestart says for its exit code — the container's
 * restartPolicyRules, then its restartPolicy, then the pod's — the same decision the status
 * code reports (src/status/podutil.ts).
 */
export function shouldContainerBeRestarted(
  c: Container,
  pod: Pod,
  rt: PodRuntimeStatus | undefined,
): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const s = newest(rt, c.name);
  if (!s) return true;
  if (s.state === 'running') return false;
  if (s.state === 'unknown' || s.state === 'created') return true;
  return containerShouldRestart(c, pod.spec ?? { containers: [] }, s.exitCode);
}

/** The container-level restartPolicy if set, else whether the pod's is not Never (for running or unknown containers). */
function restartsByPolicy(c: Container, pod: Pod): boolean {
  if (c.restartPolicy !== undefined) return c.restartPolicy !== 'Never';
  return (pod.spec?.restartPolicy ?? 'Always') !== 'Never';
}

function containerSucceeded(c: Container, rt: PodRuntimeStatus | undefined): boolean {
  const s = newest(rt, c.name);
  return s !== undefined && s.state === 'exited' && s.exitCode === 0;
}

function isInitContainerFailed(s: ContainerRuntimeStatus): boolean {
  if (s.state === 'exited' && s.exitCode !== 0) return true;
  if (s.state === 'unknown') return true;
  return s.reason === 'OOMKilled';
}

/**
 * Upstream containerChanged: the annotation's hash (hex, as any kubelet wrote it) differs from
 * HashContainer of the spec. A container without the annotation is left alone.
 */
const hashChanged = (c: Container, s: ContainerRuntimeStatus): boolean => {
  const recorded = parseContainerHash(s.hash);
  return recorded !== undefined && recorded !== hashContainerValue(c);
};

/** Walks init containers in reverse (sidecar-aware). Returns whether the pod is initialized. */
function computeInitContainerActions(input: PlanInput, a: PodActions): boolean {
  const { pod, runtime: rt } = input;
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length === 0) return true;

  let podHasInitialized = false;
  for (const c of pod.spec?.containers ?? []) {
    const s = newest(rt, c.name);
    if (s && (s.state === 'created' || s.state === 'running')) {
      podHasInitialized = true;
      break;
    }
  }
  let isPreviouslyInitialized = podHasInitialized;
  const toStart: number[] = [];

  for (let i = inits.length - 1; i >= 0; i--) {
    const c = inits[i]!;
    const s = newest(rt, c.name);
    const sidecar = isSidecar(c);
    if (!s) {
      if (isPreviouslyInitialized && sidecar) toStart.push(i);
      continue;
    }
    if (isPreviouslyInitialized && !sidecar) continue;

    switch (s.state) {
      case 'created':
        toStart.push(i);
        break;
      case 'running': {
        if (!sidecar) break;
        if (c.startupProbe) {
          const r = input.startup(s.id);
          if (r === undefined) break;
          if (r === 'Failure') {
            a.containersToKill.push({
              id: s.id,
              name: c.name,
              message: `Init container ${c.name} failed startup probe`,
              reason: 'StartupProbe',
            });
            toStart.push(i);
            break;
          }
        }
        if (i === inits.length - 1) podHasInitialized = true;
        else if (!isPreviouslyInitialized) toStart.push(i + 1);
        if (hashChanged(c, s)) {
          a.containersToKill.push({
            id: s.id,
            name: c.name,
            message: `Init container ${c.name} definition changed`,
            reason: '',
          });
          toStart.push(i);
          break;
        }
        if (c.livenessProbe && input.liveness(s.id) === 'Failure') {
          a.containersToKill.push({
            id: s.id,
            name: c.name,
            message: `Init container ${c.name} failed liveness probe`,
            reason: 'LivenessProbe',
          });
          toStart.push(i);
        }
        break;
      }
      case 'exited':
        if (sidecar) {
          toStart.push(i);
        } else if (isInitContainerFailed(s)) {
          if (!shouldContainerBeRestarted(c, pod, rt)) {
            a.killPod = true;
            a.initContainersToStart = [];
            return false;
          }
          toStart.push(i);
        } else if (i === inits.length - 1) {
          podHasInitialized = true;
        } else {
          toStart.push(i + 1);
        }
        break;
      default:
        // Only the container-level policy: there is no exit code for the rules.
        if (!sidecar && !restartsByPolicy(c, pod)) {
          a.killPod = true;
          a.initContainersToStart = [];
          return false;
        }
        a.containersToKill.push({
          id: s.id,
          name: c.name,
          message: `Init container is in "${s.state}" state, try killing it before restart`,
          reason: 'Unknown',
        });
        toStart.push(i);
    }
    if (!isPreviouslyInitialized) isPreviouslyInitialized = true;
  }
  if (!isPreviouslyInitialized) toStart.push(0);
  const ordered = [...new Set(toStart)].sort((x, y) => x - y);
  a.initContainersToStart = ordered.map((i) => inits[i]!.name);
  return podHasInitialized;
}

export function computePodActions(input: PlanInput): PodActions {
  const { pod, runtime: rt } = input;
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const [changed, attempt, sandboxId] = podSandboxChanged(pod, rt);
  const a: PodActions = {
    killPod: changed,
    createSandbox: changed,
    sandboxId,
    attempt,
    sandboxChanged: changed && sandboxId !== '',
    initContainersToStart: [],
    containersToStart: [],
    ephemeralContainersToStart: [],
    containersToKill: [],
    initialized: false,
  };

  if (changed) {
    if (restartPolicy === 'Never' && attempt !== 0 && (rt?.containers.length ?? 0) !== 0) {
      a.createSandbox = false;
      return a;
    }
    // Containers that run once (OnFailure, the container's policy winning) and succeeded stay done.
    const runOnce = (c: Container) =>
      c.restartPolicy !== undefined ? c.restartPolicy === 'OnFailure' : restartPolicy === 'OnFailure';
    const toStart = containers.filter((c) => !(runOnce(c) && containerSucceeded(c, rt))).map((c) => c.name);
    if (toStart.length === 0) {
      // Initialization finished and nothing to run: only kill, no new sandbox.
      const probe: PodActions = { ...a, containersToKill: [], initContainersToStart: [] };
      if (computeInitContainerActions(input, probe)) {
        a.createSandbox = false;
        a.initialized = true;
        return a;
      }
    }
    if (inits.length > 0) {
      a.initContainersToStart = [inits[0]!.name];
      return a;
    }
    a.containersToStart = toStart;
    a.initialized = true;
    return a;
  }

  // Ephemeral containers may start before initialization completes; they are never restarted.
  for (const ec of pod.spec?.ephemeralContainers ?? []) {
    if (!newest(rt, ec.name)) a.ephemeralContainersToStart.push(ec.name);
  }

  a.initialized = computeInitContainerActions(input, a);
  if (!a.initialized || a.killPod) return a;

  let keepCount = 0;
  for (const c of containers) {
    const s = newest(rt, c.name);
    if (s?.state !== 'running') {
      if (shouldContainerBeRestarted(c, pod, rt)) {
        if (s && s.state === 'unknown') {
          a.containersToKill.push({
            id: s.id,
            name: c.name,
            message: `Container is in "unknown" state, try killing it before restart`,
            reason: 'Unknown',
          });
        }
        a.containersToStart.push(c.name);
      }
      continue;
    }
    // Probe failures use the container-level policy only: a running container has no exit code.
    let restart = restartsByPolicy(c, pod);
    let message: string;
    let reason = '';
    if (hashChanged(c, s)) {
      message = `Container ${c.name} definition changed`;
      restart = true;
    } else if (input.liveness(s.id) === 'Failure') {
      message = `Container ${c.name} failed liveness probe`;
      reason = 'LivenessProbe';
    } else if (input.startup(s.id) === 'Failure') {
      message = `Container ${c.name} failed startup probe`;
      reason = 'StartupProbe';
    } else {
      keepCount++;
      continue;
    }
    if (restart) {
      message = `${message}, will be restarted`;
      a.containersToStart.push(c.name);
    }
    a.containersToKill.push({ id: s.id, name: c.name, message, reason });
  }
  if (keepCount === 0 && a.containersToStart.length === 0) {
    a.killPod = true;
    // Sidecars must not keep a finished pod alive.
    a.initContainersToStart = [];
  }
  return a;
}
