import { containerShouldRestart, isMirrorPod, isSidecar, isTerminalPhase } from '../api/pod.js';
import type { Container, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus } from '../api/types.js';
import { CONDITION, forceTerminalReadiness, isKubeletCondition, stampTransitionTimes } from './conditions.js';
import { clone, replaceOrAppendCondition } from './podutil.js';

/**
 * The status to send, from the one the apiserver holds and the kubelet's (upstream
 * mergePodStatus): conditions the kubelet does not own stay as the apiserver has them; a
 * DisruptionTarget is sent only with the terminal phase it belongs to; the phase turns terminal
 * only once no container can still run; a terminal phase never regresses; Ready and
 * ContainersReady are False in a terminal phase.
 */
export function mergePodStatus(
  pod: Pod,
  apiStatus: PodStatus,
  status: PodStatus,
  couldHaveRunningContainers: boolean,
  nowRfc3339: string,
): PodStatus {
  const merged = clone(status);
  const conditions: PodCondition[] = (apiStatus.conditions ?? [])
    .filter((c) => !isKubeletCondition(c.type))
    .map((c) => clone(c));
  const transitioningToTerminal = !isTerminalPhase(apiStatus.phase) && isTerminalPhase(status.phase);
  for (const c of status.conditions ?? []) {
    if (isKubeletCondition(c.type)) {
      conditions.push(clone(c));
    } else if (
      c.type === CONDITION.disruptionTarget &&
      transitioningToTerminal &&
      !couldHaveRunningContainers
    ) {
      const fresh: PodStatus = { conditions: [clone(c)] };
      // the stored transition time is stale when sending was delayed until containers stopped
      stampTransitionTimes(fresh, apiStatus, nowRfc3339);
      const stamped = fresh.conditions?.[0];
      if (stamped) replaceOrAppendCondition(conditions, stamped);
    }
  }
  merged.conditions = conditions;
  if (apiStatus.resourceClaimStatuses) merged.resourceClaimStatuses = clone(apiStatus.resourceClaimStatuses);
  else delete merged.resourceClaimStatuses;
  if (apiStatus.extendedResourceClaimStatus) {
    merged.extendedResourceClaimStatus = clone(apiStatus.extendedResourceClaimStatus);
  }

  if (transitioningToTerminal && couldHaveRunningContainers) {
    merged.phase = apiStatus.phase;
    merged.reason = apiStatus.reason;
    merged.message = apiStatus.message;
  }
  if (isTerminalPhase(apiStatus.phase) && merged.phase !== apiStatus.phase) {
    merged.phase = apiStatus.phase;
    merged.reason = apiStatus.reason;
    merged.message = apiStatus.message;
  }
  forceTerminalReadiness(pod, merged, nowRfc3339);
  return merged;
}

function checkList(
  olds: readonly ContainerStatus[] | undefined,
  news: readonly ContainerStatus[] | undefined,
  specs: readonly Container[],
  spec: PodSpec,
  skip: (name: string) => boolean,
  what: string,
): string | undefined {
  for (const o of olds ?? []) {
    const t = o.state?.terminated;
    if (!t || skip(o.name)) continue;
    if (t.exitCode !== 0 && spec.restartPolicy === 'OnFailure') continue;
    // ContainerRestartRules: the container's own policy or rules may restart it.
    const c = specs.find((x) => x.name === o.name);
    if (c && containerShouldRestart(c, spec, t.exitCode)) continue;
    const n = news?.find((x) => x.name === o.name);
    if (n && !n.state?.terminated) {
      return `terminated ${what}${o.name} attempted illegal transition to non-terminated state`;
    }
  }
  return undefined;
}

/**
 * Upstream checkContainerStateTransition: unless restartPolicy is Always, a terminated container
 * (or regular init container) may not go back to a non-terminated state, except a failed one
 * under OnFailure or one its container restartPolicy / restartPolicyRules restart. Returns the
 * error message, or undefined when the transition is legal.
 */
export function checkContainerStateTransition(
  oldStatus: PodStatus,
  status: PodStatus,
  spec: PodSpec,
): string | undefined {
  if (spec.restartPolicy === 'Always') return undefined;
  const regular = checkList(
    oldStatus.containerStatuses,
    status.containerStatuses,
    spec.containers,
    spec,
    () => false,
    'container ',
  );
  if (regular) return regular;
  const inits = spec.initContainers ?? [];
  const olds = oldStatus.initContainerStatuses ?? [];
  for (const [i, o] of olds.entries()) {
    if (inits[i]?.name !== o.name) return `found mismatch between pod spec and status, container: ${o.name}`;
  }
  const sidecar = (name: string) => isSidecar(inits.find((c) => c.name === name));
  return checkList(olds, status.initContainerStatuses, inits, spec, sidecar, 'init container ');
}

/**
 * Upstream canBeDeleted: the API pod has a deletionTimestamp, is not a mirror pod, its API phase
 * is terminal and the pod worker finished with it.
 */
export function canBeDeleted(apiPod: Pod, podIsFinished: boolean): boolean {
  if (!apiPod.metadata?.deletionTimestamp || isMirrorPod(apiPod)) return false;
  if (!isTerminalPhase(apiPod.status?.phase)) return false;
  return podIsFinished;
}
