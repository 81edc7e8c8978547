import { containerShouldRestart, isSidecar } from '../api/pod.js';
import type { Container, Pod } from '../api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus, SandboxStatus } from '../cri/runtimeState.js';
import { hashContainerValue, parseContainerHash } from './hash.js';
import { exitWords, type PlanReasons, policyWords, setOnce } from './planReasons.js';

export type { PlanReasons } from './planReasons.js';

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
  /** Why each action was decided, in words (the explain endpoint; never read by the syncer). */
  reasons: PlanReasons;
}

const newest = (rt: PodRuntimeStatus | undefined, name: string): ContainerRuntimeStatus | undefined =>
  rt?.containers.find((c) => c.name === name);

/** Upstream PodSandboxChanged: [changed, attempt, sandboxId]. */
export function podSandboxChanged(pod: Pod, rt: PodRuntimeStatus | undefined): [boolean, number, string] {
  const [changed, attempt, id] = sandboxCheck(pod, rt);
  return [changed, attempt, id];
}

/** PodSandboxChanged with the rule that decided, in words. */
function sandboxCheck(pod: Pod, rt: PodRuntimeStatus | undefined): [boolean, number, string, string] {
  const sandboxes: SandboxStatus[] = rt?.sandboxes ?? [];
  const first = sandboxes[0];
  if (!first) return [true, 0, '', 'the pod has no sandbox yet'];
  const short = first.id.slice(0, 13);
  const readyCount = sandboxes.filter((s) => s.ready).length;
  if (readyCount > 1) return [true, first.attempt + 1, first.id, `the pod has ${readyCount} ready sandboxes`];
  if (!first.ready) return [true, first.attempt + 1, first.id, `sandbox ${short} is not ready`];
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (first.hostNetwork !== hostNetwork)
    return [true, first.attempt + 1, first.id, `the pod's hostNetwork changed to ${hostNetwork}`];
  if (!hostNetwork && first.ips.length === 0)
    return [true, first.attempt + 1, first.id, `sandbox ${short} has no IP address`];
  return [false, first.attempt, first.id, ''];
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
  const why = (i: number, text: string) => setOnce(a.reasons.start, inits[i]!.name, text);

  for (let i = inits.length - 1; i >= 0; i--) {
    const c = inits[i]!;
    const s = newest(rt, c.name);
    const sidecar = isSidecar(c);
    if (!s) {
      if (isPreviouslyInitialized && sidecar) {
        toStart.push(i);
        why(i, `sidecar ${c.name} has not started yet`);
      }
      continue;
    }
    if (isPreviouslyInitialized && !sidecar) continue;

    switch (s.state) {
      case 'created':
        toStart.push(i);
        why(i, `init container ${c.name} was created but not started`);
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
            why(i, `sidecar ${c.name} failed its startup probe`);
            break;
          }
        }
        if (i === inits.length - 1) podHasInitialized = true;
        else if (!isPreviouslyInitialized) {
          toStart.push(i + 1);
          why(i + 1, `sidecar ${c.name} before it has started`);
        }
        if (hashChanged(c, s)) {
          a.containersToKill.push({
            id: s.id,
            name: c.name,
            message: `Init container ${c.name} definition changed`,
            reason: '',
          });
          toStart.push(i);
          why(i, `the definition of ${c.name} changed`);
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
          why(i, `sidecar ${c.name} failed its liveness probe`);
        }
        break;
      }
      case 'exited':
        if (sidecar) {
          toStart.push(i);
          why(i, `sidecar ${c.name} ${exitWords(s)}; sidecars are always restarted`);
        } else if (isInitContainerFailed(s)) {
          if (!shouldContainerBeRestarted(c, pod, rt)) {
            a.killPod = true;
            a.reasons.killPod = `init container ${c.name} ${exitWords(s)} and ${policyWords(c, pod)} does not restart it: the pod failed`;
            a.initContainersToStart = [];
            return false;
          }
          toStart.push(i);
          why(i, `init container ${c.name} ${exitWords(s)}; ${policyWords(c, pod)} restarts it`);
        } else if (i === inits.length - 1) {
          podHasInitialized = true;
        } else {
          toStart.push(i + 1);
          why(i + 1, `init container ${c.name} completed`);
        }
        break;
      default:
        // Only the container-level policy: there is no exit code for the rules.
        if (!sidecar && !restartsByPolicy(c, pod)) {
          a.killPod = true;
          a.reasons.killPod = `init container ${c.name} is in "${s.state}" state and ${policyWords(c, pod)} does not restart it`;
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
        why(i, `init container ${c.name} is in "${s.state}" state`);
    }
    if (!isPreviouslyInitialized) isPreviouslyInitialized = true;
  }
  if (!isPreviouslyInitialized) {
    toStart.push(0);
    why(0, 'the first init container has not started yet');
  }
  const ordered = [...new Set(toStart)].sort((x, y) => x - y);
  a.initContainersToStart = ordered.map((i) => inits[i]!.name);
  if (!podHasInitialized) {
    const running = inits.find((c) => !isSidecar(c) && newest(rt, c.name)?.state === 'running');
    a.reasons.blocked = running
      ? `init container ${running.name} is running and has not completed`
      : 'init containers have not completed';
  }
  return podHasInitialized;
}

export function computePodActions(input: PlanInput): PodActions {
  const { pod, runtime: rt } = input;
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const [changed, attempt, sandboxId, sandboxWhy] = sandboxCheck(pod, rt);
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
    reasons: { start: {}, idle: {} },
  };

  if (changed) {
    a.reasons.sandbox = sandboxWhy;
    a.reasons.killPod = sandboxWhy;
    if (restartPolicy === 'Never' && attempt !== 0 && (rt?.containers.length ?? 0) !== 0) {
      a.createSandbox = false;
      a.reasons.killPod = `${sandboxWhy}; with restartPolicy Never the pod is not started again`;
      return a;
    }
    // Containers that run once (OnFailure, the container's policy winning) and succeeded stay done.
    const runOnce = (c: Container) =>
      c.restartPolicy !== undefined ? c.restartPolicy === 'OnFailure' : restartPolicy === 'OnFailure';
    const toStart = containers.filter((c) => !(runOnce(c) && containerSucceeded(c, rt))).map((c) => c.name);
    if (toStart.length === 0) {
      // Initialization finished and nothing to run: only kill, no new sandbox.
      const probe: PodActions = {
        ...a,
        containersToKill: [],
        initContainersToStart: [],
        reasons: { start: {}, idle: {} },
      };
      if (computeInitContainerActions(input, probe)) {
        a.createSandbox = false;
        a.initialized = true;
        a.reasons.killPod = `${sandboxWhy}; every container completed, so no new sandbox`;
        return a;
      }
    }
    if (inits.length > 0) {
      a.initContainersToStart = [inits[0]!.name];
      a.reasons.start[inits[0]!.name] = `the first init container, in a new sandbox (${sandboxWhy})`;
      a.reasons.blocked = 'init containers run first in the new sandbox';
      return a;
    }
    a.containersToStart = toStart;
    for (const n of toStart) a.reasons.start[n] = `in a new sandbox (${sandboxWhy})`;
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
        a.reasons.start[c.name] = !s
          ? `container ${c.name} has not been started yet`
          : s.state === 'exited'
            ? `container ${c.name} ${exitWords(s)}; ${policyWords(c, pod)} restarts it`
            : `container ${c.name} is in "${s.state}" state`;
        if (s && s.state === 'unknown') {
          a.containersToKill.push({
            id: s.id,
            name: c.name,
            message: `Container is in "unknown" state, try killing it before restart`,
            reason: 'Unknown',
          });
        }
        a.containersToStart.push(c.name);
      } else {
        a.reasons.idle[c.name] = pod.metadata?.deletionTimestamp
          ? 'the pod is being deleted'
          : `container ${c.name} ${s ? exitWords(s) : 'never ran'}; ${policyWords(c, pod)} does not restart it`;
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
      a.reasons.idle[c.name] = `container ${c.name} is running`;
      continue;
    }
    if (restart) {
      message = `${message}, will be restarted`;
      a.containersToStart.push(c.name);
      a.reasons.start[c.name] = message;
    }
    a.containersToKill.push({ id: s.id, name: c.name, message, reason });
  }
  if (keepCount === 0 && a.containersToStart.length === 0) {
    a.killPod = true;
    a.reasons.killPod = 'no container is running or will be restarted: the pod is done';
    // Sidecars must not keep a finished pod alive.
    a.initContainersToStart = [];
  }
  return a;
}
