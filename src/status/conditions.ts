import { isSidecar, PHASE } from '../api/pod.js';
import type { ContainerStatus, Pod, PodCondition, PodStatus } from '../api/types.js';
import { findCondition, findStatus, goSlice } from './podutil.js';

export const CONDITION = {
  podScheduled: 'PodScheduled',
  ready: 'Ready',
  initialized: 'Initialized',
  containersReady: 'ContainersReady',
  podReadyToStartContainers: 'PodReadyToStartContainers',
  disruptionTarget: 'DisruptionTarget',
} as const;

/** Condition reasons (pkg/kubelet/status/generate.go, pkg/kubelet/types). */
export const REASON = {
  unknownContainerStatuses: 'UnknownContainerStatuses',
  podCompleted: 'PodCompleted',
  podFailed: 'PodFailed',
  containersNotReady: 'ContainersNotReady',
  containersNotInitialized: 'ContainersNotInitialized',
  readinessGatesNotReady: 'ReadinessGatesNotReady',
  podSandboxNotReady: 'PodSandboxNotReady',
  terminationByKubelet: 'TerminationByKubelet',
} as const;

/** PodReadyToStartContainers=False messages upstream defines (pkg/kubelet/types/constants.go). */
export const SANDBOX_NOT_READY_MESSAGE = {
  noPodSandbox: 'no pod sandbox exists',
  noIPAddress: 'pod sandbox has no IP address',
} as const;

/** Conditions the kubelet owns (upstream kubetypes.PodConditionByKubelet). */
const KUBELET_OWNED = new Set<string>([
  CONDITION.podScheduled,
  CONDITION.ready,
  CONDITION.initialized,
  CONDITION.containersReady,
  'PodResizeInProgress',
  'PodResizePending',
  CONDITION.podReadyToStartContainers,
]);

export const isKubeletCondition = (type: string): boolean => KUBELET_OWNED.has(type);
/** Conditions both the kubelet and others write (upstream PodConditionSharedByKubelet). */
export const isSharedCondition = (type: string): boolean => type === CONDITION.disruptionTarget;

type Cond = Omit<PodCondition, 'lastTransitionTime' | 'lastProbeTime'>;

function cond(pod: Pod, type: string, status: 'True' | 'False', reason?: string, message?: string): Cond {
  const c: Cond = { type, status };
  const gen = pod.metadata?.generation;
  if (gen) c.observedGeneration = gen;
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

function terminalContainersReady(pod: Pod, type: string, phase: string): Cond {
  const reason =
    phase === PHASE.failed ? REASON.podFailed : phase === PHASE.succeeded ? REASON.podCompleted : '';
  return cond(pod, type, 'False', reason);
}

export function containersReadyCondition(
  pod: Pod,
  statuses: readonly ContainerStatus[] | undefined,
  phase: string,
): Cond {
  if (statuses === undefined) {
    return cond(pod, CONDITION.containersReady, 'False', REASON.unknownContainerStatuses);
  }
  const unknown: string[] = [];
  const unready: string[] = [];
  const spec = pod.spec ?? { containers: [] };
  const check = (name: string) => {
    const s = findStatus(statuses, name);
    if (!s) unknown.push(name);
    else if (!s.ready) unready.push(name);
  };
  for (const c of spec.initContainers ?? []) if (isSidecar(c)) check(c.name);
  for (const c of spec.containers) check(c.name);

  if ((phase === PHASE.succeeded && unknown.length === 0) || phase === PHASE.failed) {
    return terminalContainersReady(pod, CONDITION.containersReady, phase);
  }
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goSlice(unknown)}`);
  if (unready.length > 0) messages.push(`containers with unready status: ${goSlice(unready)}`);
  if (messages.length > 0) {
    return cond(pod, CONDITION.containersReady, 'False', REASON.containersNotReady, messages.join(', '));
  }
  return cond(pod, CONDITION.containersReady, 'True');
}

/** Ready: ContainersReady and every readiness gate's condition True (upstream GeneratePodReadyCondition). */
export function readyCondition(
  pod: Pod,
  conditions: readonly PodCondition[],
  statuses: readonly ContainerStatus[] | undefined,
  phase: string,
): Cond {
  const containersReady = containersReadyCondition(pod, statuses, phase);
  if (containersReady.status !== 'True') {
    return cond(pod, CONDITION.ready, 'False', containersReady.reason, containersReady.message);
  }
  const messages: string[] = [];
  for (const gate of pod.spec?.readinessGates ?? []) {
    const c = findCondition(conditions, gate.conditionType);
    if (!c) {
      messages.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    } else if (c.status !== 'True') {
      messages.push(
        `the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`,
      );
    }
  }
  if (messages.length > 0) {
    return cond(pod, CONDITION.ready, 'False', REASON.readinessGatesNotReady, messages.join(', '));
  }
  return cond(pod, CONDITION.ready, 'True');
}

/**
 * Upstream NeedToReconcilePodReadiness: a pod with readiness gates whose Ready condition in the
 * API (status and message) is not what its API status implies, e.g. after someone else set a
 * gate's condition through the status subresource. The kubelet then syncs the pod at once.
 */
export function needToReconcilePodReadiness(pod: Pod): boolean {
  if ((pod.spec?.readinessGates ?? []).length === 0) return false;
  const status = pod.status ?? {};
  const current = findCondition(status.conditions, CONDITION.ready);
  if (!current) return false;
  const want = readyCondition(pod, status.conditions ?? [], status.containerStatuses, status.phase ?? '');
  return current.status !== want.status || (current.message ?? '') !== (want.message ?? '');
}

/** True if a regular container is running or terminated (upstream HasAnyRegularContainerStarted). */
export function hasAnyRegularContainerStarted(
  pod: Pod,
  statuses: readonly ContainerStatus[] | undefined,
): boolean {
  const names = new Set((pod.spec?.containers ?? []).map((c) => c.name));
  return (statuses ?? []).some((s) => names.has(s.name) && (s.state?.running || s.state?.terminated));
}

export function initializedCondition(
  pod: Pod,
  statuses: readonly ContainerStatus[] | undefined,
  phase: string,
): Cond {
  const initContainers = pod.spec?.initContainers ?? [];
  if (statuses === undefined && initContainers.length > 0) {
    return cond(pod, CONDITION.initialized, 'False', REASON.unknownContainerStatuses);
  }
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of initContainers) {
    const s = findStatus(statuses, c.name);
    if (!s) {
      unknown.push(c.name);
      continue;
    }
    const initialized = isSidecar(c) ? s.started === true : s.ready;
    if (!initialized) incomplete.push(c.name);
  }
  if (phase === PHASE.succeeded && unknown.length === 0) {
    return cond(pod, CONDITION.initialized, 'True', REASON.podCompleted);
  }
  if (hasAnyRegularContainerStarted(pod, statuses)) return cond(pod, CONDITION.initialized, 'True');
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goSlice(unknown)}`);
  if (incomplete.length > 0) messages.push(`containers with incomplete status: ${goSlice(incomplete)}`);
  if (messages.length > 0) {
    return cond(pod, CONDITION.initialized, 'False', REASON.containersNotInitialized, messages.join(', '));
  }
  return cond(pod, CONDITION.initialized, 'True');
}

export function readyToStartContainersCondition(
  pod: Pod,
  sandboxReady: boolean,
  notReadyMessage?: string,
): Cond {
  if (sandboxReady) return cond(pod, CONDITION.podReadyToStartContainers, 'True');
  return cond(pod, CONDITION.podReadyToStartContainers, 'False', REASON.podSandboxNotReady, notReadyMessage);
}

export function podScheduledCondition(pod: Pod): Cond {
  return cond(pod, CONDITION.podScheduled, 'True');
}

export function disruptionTargetCondition(pod: Pod, message: string): Cond {
  return cond(pod, CONDITION.disruptionTarget, 'True', REASON.terminationByKubelet, message);
}

/** The terminal forms of Ready and ContainersReady (upstream generate*ConditionForTerminalPhase). */
export function terminalReadyConditions(pod: Pod, phase: string): { ready: Cond; containersReady: Cond } {
  return {
    ready: terminalContainersReady(pod, CONDITION.ready, phase),
    containersReady: terminalContainersReady(pod, CONDITION.containersReady, phase),
  };
}

/**
 * Sets lastTransitionTime of the kubelet-owned and shared conditions of `status`: kept from the
 * same condition in `old` when its status did not change, else `nowRfc3339` (upstream
 * updateLastTransitionTime). Foreign conditions are left as they are.
 */
export function stampTransitionTimes(
  status: PodStatus,
  old: PodStatus | undefined,
  nowRfc3339: string,
): void {
  for (const c of status.conditions ?? []) {
    if (!isKubeletCondition(c.type) && !isSharedCondition(c.type)) continue;
    const prev = findCondition(old?.conditions, c.type);
    c.lastTransitionTime =
      prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowRfc3339;
  }
}

/**
 * Forces Ready and ContainersReady False when the phase is terminal and either is True
 * (upstream mergePodStatus; issue 108594).
 */
export function forceTerminalReadiness(pod: Pod, status: PodStatus, nowRfc3339: string): void {
  const phase = status.phase;
  if (phase !== PHASE.succeeded && phase !== PHASE.failed) return;
  const conditions = status.conditions ?? [];
  const isTrue = (t: string) => findCondition(conditions, t)?.status === 'True';
  if (!isTrue(CONDITION.ready) && !isTrue(CONDITION.containersReady)) return;
  const { ready, containersReady } = terminalReadyConditions(pod, phase);
  for (const c of [containersReady, ready]) {
    const i = conditions.findIndex((x) => x.type === c.type);
    const prev = i >= 0 ? conditions[i] : undefined;
    // upstream UpdatePodCondition: a new transition time only when the status changes
    const lastTransitionTime =
      prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowRfc3339;
    const next: PodCondition = { ...c, lastTransitionTime };
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
  }
  status.conditions = conditions;
}
