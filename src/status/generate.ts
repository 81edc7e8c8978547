import { isSidecar, isStaticPod, isTerminalPhase, PHASE } from '../api/pod.js';
import { podQOSClass } from '../api/qos.js';
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from '../api/types.js';
import { rfc3339 } from '../api/types.js';
import type { PodRuntimeStatus } from '../cri/runtimeState.js';
import {
  CONDITION,
  containersReadyCondition,
  disruptionTargetCondition,
  forceTerminalReadiness,
  initializedCondition,
  isKubeletCondition,
  podScheduledCondition,
  readyCondition,
  readyToStartContainersCondition,
  SANDBOX_NOT_READY_MESSAGE,
  stampTransitionTimes,
} from './conditions.js';
import {
  applyProbeResults,
  CONTAINER_STATUS_UNKNOWN,
  convertContainerStatuses,
  MSG_UNKNOWN_WHEN_TERMINATED,
  type ProbeView,
  type StartFailure,
} from './containers.js';
import { podIPs, setHostIPs, sortPodIPs } from './ips.js';
import { normalizeStatus } from './normalize.js';
import { getPhase } from './phase.js';
import { clone, findCondition, replaceOrAppendCondition } from './podutil.js';

export type { ProbeView, StartFailure } from './containers.js';
export { getPhase } from './phase.js';

export interface StatusOverride {
  reason: string;
  message: string;
  /**
   * Set for evictions, preemption and node shutdown (upstream killPodNow's status function): the
   * override is applied after the conditions are generated and adds DisruptionTarget
   * (reason TerminationByKubelet). Without it the override acts like a pod sync handler's
   * ShouldEvict (activeDeadlineSeconds: DeadlineExceeded) and the conditions see phase Failed.
   */
  disruptionTarget?: boolean;
  /** The DisruptionTarget condition's message when it differs from `message` (preemption). */
  conditionMessage?: string;
}

export interface GenerateInput {
  /** Spec and metadata, and the status the apiserver holds. */
  pod: Pod;
  runtime: PodRuntimeStatus | undefined;
  /** The last status the kubelet generated for this pod (or the API status at first sight). */
  previous: PodStatus | undefined;
  /** Node IPs (primary first); hostNetwork pods get them as pod IPs. */
  nodeIPs: readonly string[];
  /** Epoch ms. */
  now: number;
  /** 'containerd' gives container IDs `containerd://<id>`. */
  runtimeName: string;
  /** The last failed start attempt per container name (upstream reason cache). */
  startFailures: ReadonlyMap<string, StartFailure>;
  probes: ProbeView;
  /** Runtime container ID → termination message text (read by the I/O layer). */
  terminationMessages: ReadonlyMap<string, string>;
  /** The pod worker is finalising the pod: all containers stopped, none will start again. */
  podIsTerminal: boolean;
  /** PodReadyToStartContainers: a usable sandbox exists (upstream PodSandboxChanged is false). */
  sandboxReady: boolean;
  /** Why no usable sandbox exists (the PodReadyToStartContainers=False message). */
  sandboxNotReadyMessage?: string;
  override?: StatusOverride;
  /** When the kubelet process started (epoch ms), for upstream's readiness grace after a restart. */
  kubeletStartedAt?: number;
}

/** True when a regular container exists in the pod's current sandbox (upstream HasAnyActiveRegularContainerStarted). */
function hasActiveRegularContainer(pod: Pod, runtime: PodRuntimeStatus | undefined): boolean {
  const sandbox = runtime?.sandboxes[0];
  if (!sandbox) return false;
  const names = new Set((pod.spec?.containers ?? []).map((c) => c.name));
  return (runtime?.containers ?? []).some((c) => c.podSandboxId === sandbox.id && names.has(c.name));
}

function defaultSandboxMessage(pod: Pod, runtime: PodRuntimeStatus | undefined): string | undefined {
  const newest = runtime?.sandboxes[0];
  if (!newest) return SANDBOX_NOT_READY_MESSAGE.noPodSandbox;
  if (newest.ready && !pod.spec?.hostNetwork && newest.ips.length === 0)
    return SANDBOX_NOT_READY_MESSAGE.noIPAddress;
  return undefined;
}

/**
 * The API status of a pod from its spec, the runtime's view and probe results (upstream
 * generateAPIPodStatus, plus what the status manager adds when it stores a status: start time,
 * transition times, observedGeneration, normalisation). Pure: no clock, no I/O.
 */
export function generatePodStatus(input: GenerateInput): PodStatus {
  const { pod, runtime, override } = input;
  const apiStatus = pod.status ?? {};
  const old = input.previous ?? apiStatus;
  const spec = pod.spec ?? { containers: [] };
  const now = rfc3339(input.now);
  const convert = {
    pod,
    runtime,
    runtimeName: input.runtimeName,
    startFailures: input.startFailures,
    terminationMessages: input.terminationMessages,
  };
  const hasInit = (spec.initContainers?.length ?? 0) > 0;

  const s: PodStatus = {};
  const ips = sortPodIPs(podIPs(runtime, input.previous), input.nodeIPs);
  if (ips.length > 0) {
    s.podIPs = ips.map((ip) => ({ ip }));
    s.podIP = ips[0];
  }
  s.qosClass = podQOSClass(pod);
  const containerStatuses = convertContainerStatuses(
    convert,
    spec.containers,
    old.containerStatuses,
    hasInit,
    false,
  );
  const initStatuses = convertContainerStatuses(
    convert,
    spec.initContainers ?? [],
    old.initContainerStatuses,
    hasInit,
    true,
  );
  const ephemeralSpecs = (spec.ephemeralContainers ?? []) as Container[];
  const ephemeralStatuses = convertContainerStatuses(
    convert,
    ephemeralSpecs,
    old.ephemeralContainerStatuses,
    hasInit,
    false,
  );

  let phase = getPhase(
    pod,
    [...containerStatuses, ...initStatuses],
    input.podIsTerminal,
    hasActiveRegularContainer(pod, runtime),
  );
  if (!isTerminalPhase(phase)) {
    if (old.phase && isTerminalPhase(old.phase)) phase = old.phase;
    else if (apiStatus.phase && isTerminalPhase(apiStatus.phase)) phase = apiStatus.phase;
  }
  if (phase === old.phase) {
    const reason = old.reason || apiStatus.reason;
    const message = old.message || apiStatus.message;
    if (reason) s.reason = reason;
    if (message) s.message = message;
  }
  if (override && !override.disruptionTarget) {
    phase = PHASE.failed;
    s.reason = override.reason;
    s.message = override.message;
  }
  if (apiStatus.phase && isTerminalPhase(apiStatus.phase) && phase !== apiStatus.phase)
    phase = apiStatus.phase;
  s.phase = phase;

  applyProbeResults(
    { pod, probes: input.probes, kubeletStartedAt: input.kubeletStartedAt },
    containerStatuses,
    initStatuses,
  );
  if (containerStatuses.length > 0) s.containerStatuses = containerStatuses;
  if (initStatuses.length > 0) s.initContainerStatuses = initStatuses;
  if (ephemeralStatuses.length > 0) s.ephemeralContainerStatuses = ephemeralStatuses;

  const conditions: PodCondition[] = (apiStatus.conditions ?? [])
    .filter((c) => !isKubeletCondition(c.type))
    .map((c) => clone(c));
  const disruption = findCondition(old.conditions, CONDITION.disruptionTarget);
  if (disruption) replaceOrAppendCondition(conditions, clone(disruption));
  const message = input.sandboxNotReadyMessage ?? defaultSandboxMessage(pod, runtime);
  conditions.push(readyToStartContainersCondition(pod, input.sandboxReady, message));
  const all: ContainerStatus[] = [...initStatuses, ...containerStatuses];
  conditions.push(initializedCondition(pod, all, phase));
  conditions.push(readyCondition(pod, conditions, all, phase));
  conditions.push(containersReadyCondition(pod, all, phase));
  conditions.push(podScheduledCondition(pod));
  s.conditions = conditions;

  if (override?.disruptionTarget) {
    s.phase = PHASE.failed;
    s.reason = override.reason;
    s.message = override.message;
    replaceOrAppendCondition(
      conditions,
      disruptionTargetCondition(pod, override.conditionMessage ?? override.message),
    );
  }

  setHostIPs(pod, s, input.nodeIPs, input.previous);
  s.startTime = old.startTime || apiStatus.startTime || now;
  const gen = pod.metadata?.generation;
  if (gen) s.observedGeneration = gen;

  stampTransitionTimes(s, old, now);
  forceTerminalReadiness(pod, s, now);
  return normalizeStatus(pod, s);
}

/** The status of a pod the kubelet refused to admit (upstream rejectPod). */
export function rejectedPodStatus(pod: Pod, reason: string, message: string): PodStatus {
  return { qosClass: podQOSClass(pod), phase: PHASE.failed, reason, message: `Pod was rejected: ${message}` };
}

const unknownTerminated = (): ContainerStatus['state'] => ({
  terminated: { exitCode: 137, reason: CONTAINER_STATUS_UNKNOWN, message: MSG_UNKNOWN_WHEN_TERMINATED },
});

/** True when the API status shows the pod ever got past its init containers (upstream hasPodInitialized). */
export function hasPodInitialized(pod: Pod): boolean {
  const initContainers = pod.spec?.initContainers ?? [];
  if (initContainers.length === 0) return true;
  const api = pod.status ?? {};
  for (const s of api.containerStatuses ?? []) {
    if (s.lastState?.terminated || !s.state?.waiting) return true;
  }
  const inits = api.initContainerStatuses ?? [];
  const last = inits[inits.length - 1];
  if (!last) return false;
  const c = initContainers[inits.length - 1];
  if (!c || c.name !== last.name) return false;
  if (isSidecar(c)) return last.state?.running !== undefined && last.started === true;
  return last.lastState?.terminated?.exitCode === 0 || last.state?.terminated?.exitCode === 0;
}

/**
 * Upstream TerminatePod: at the end of a pod's life every container without a terminated state
 * is marked terminated ContainerStatusUnknown / 137 (regular containers only once the pod had
 * initialized; init containers up to the last one that ever started), and a Pending or Running
 * non-static pod becomes Failed. `status` is the kubelet's last status (or the API one).
 */
export function terminatedStatus(pod: Pod, status: PodStatus): PodStatus {
  const s = clone(status);
  if (hasPodInitialized(pod)) {
    for (const c of s.containerStatuses ?? []) {
      if (!c.state?.terminated) c.state = unknownTerminated();
    }
  }
  const inits = s.initContainerStatuses ?? [];
  let end = inits.length > 0 ? 1 : 0;
  for (let i = inits.length - 1; i >= 0; i--) {
    const c = inits[i];
    if (c && (!c.state?.waiting || c.lastState?.terminated)) {
      end = i + 1;
      break;
    }
  }
  for (const c of inits.slice(0, end)) {
    if (!c.state?.terminated) c.state = unknownTerminated();
  }
  if (!isStaticPod(pod) && !isTerminalPhase(s.phase)) s.phase = PHASE.failed;
  return s;
}
