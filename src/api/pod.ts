import type { ObjectRef } from './events.js';

/**
 * The shared pod vocabulary (architecture.md): helpers every room may use, declared once.
 * Structurally typed, so rooms with their own narrower pod types (src/probes) can use them.
 */

/** What a container restart decision reads (v1.Container restartPolicy, restartPolicyRules). */
export interface RestartPolicyOf {
  restartPolicy?: string;
  restartPolicyRules?: readonly {
    action: string;
    exitCodes?: { operator: string; values?: readonly number[] };
  }[];
}

/**
 * Whether a container should run again after exiting with `exitCode` (upstream
 * podutil.ContainerShouldRestart, ContainerRestartRules on): the container's
 * restartPolicyRules first (the first rule whose exit codes match decides; Restart restarts),
 * then the container's restartPolicy, then the pod's (default Always).
 */
export function containerShouldRestart(
  container: RestartPolicyOf,
  spec: { restartPolicy?: string },
  exitCode: number,
): boolean {
  if (container.restartPolicy !== undefined) {
    for (const rule of container.restartPolicyRules ?? []) {
      const codes = rule.exitCodes;
      if (!codes) continue;
      const matched = (codes.values ?? []).includes(exitCode);
      const hit = (codes.operator === 'In' && matched) || (codes.operator === 'NotIn' && !matched);
      if (hit) {
        if (rule.action === 'Restart') return true;
        break;
      }
    }
    switch (container.restartPolicy) {
      case 'Always':
        return true;
      case 'OnFailure':
        return exitCode !== 0;
      case 'Never':
        return false;
    }
  }
  switch (spec.restartPolicy) {
    case 'OnFailure':
      return exitCode !== 0;
    case 'Never':
      return false;
    default:
      return true;
  }
}

/** Pod phases (v1.PodPhase). */
export const PHASE = {
  pending: 'Pending',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
} as const;

export const isTerminalPhase = (phase: string | undefined): boolean =>
  phase === PHASE.succeeded || phase === PHASE.failed;

/** A pod whose recorded phase is Succeeded or Failed (upstream podutil.IsPodPhaseTerminal). */
export const isPodTerminal = (pod: { status?: { phase?: string } }): boolean =>
  isTerminalPhase(pod.status?.phase);

/** A sidecar: an init container with restartPolicy Always (upstream IsRestartableInitContainer). */
export const isSidecar = (c: { restartPolicy?: string } | undefined): boolean =>
  c?.restartPolicy === 'Always';

export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

interface PodMeta {
  metadata?: { name?: string; namespace?: string; uid?: string; annotations?: Record<string, string> };
}
interface PodPriority {
  spec?: { priority?: number };
}

/** A pod from a file or URL source (upstream kubetypes.IsStaticPod; API pods carry "api" or nothing). */
export function isStaticPod(pod: PodMeta): boolean {
  const source = pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return source !== undefined && source !== 'api';
}

/** The API's copy of a static pod (upstream kubetypes.IsMirrorPod). */
export const isMirrorPod = (pod: PodMeta): boolean =>
  pod.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;

/** system-cluster-critical and above (upstream scheduling.SystemCriticalPriority). */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/** Upstream IsCriticalPodBasedOnPriority. */
export const isCriticalPriority = (pod: PodPriority): boolean =>
  (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;

/** Upstream IsCriticalPod: static, mirror, or priority ≥ 2000000000. Never evicted; admitted under pressure. */
export const isCriticalPod = (pod: PodMeta & PodPriority): boolean =>
  isStaticPod(pod) || isMirrorPod(pod) || isCriticalPriority(pod);

/** `namespace/name` for logs (upstream klog.KObj). */
export const podKObj = (pod: PodMeta): string =>
  `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

/** `name_namespace(uid)` for messages (upstream format.Pod). */
export const podDesc = (pod: PodMeta): string =>
  `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;

/** A pod's core/v1 ObjectReference, for events. */
export function podRef(pod: PodMeta): ObjectRef {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
  };
}

type Named = readonly { name: string }[] | undefined;

/**
 * A container's reference (upstream GenerateContainerRef): fieldPath spec.containers{name},
 * spec.initContainers{name} or spec.ephemeralContainers{name}.
 */
export function containerRef(
  pod: PodMeta & { spec?: { containers?: Named; initContainers?: Named; ephemeralContainers?: Named } },
  containerName: string,
): ObjectRef {
  const has = (list: Named) => (list ?? []).some((x) => x.name === containerName);
  const field = has(pod.spec?.containers)
    ? 'spec.containers'
    : has(pod.spec?.initContainers)
      ? 'spec.initContainers'
      : has(pod.spec?.ephemeralContainers)
        ? 'spec.ephemeralContainers'
        : 'spec.containers';
  return { ...podRef(pod), fieldPath: `${field}{${containerName}}` };
}

type ContainerLike = { name: string };

/** A container of the pod by name: regular, init or ephemeral (upstream GetContainerSpec). */
export function podContainerSpec<C extends ContainerLike, E extends ContainerLike>(
  pod: { spec?: { containers: C[]; initContainers?: C[]; ephemeralContainers?: E[] } },
  name: string,
): C | E | undefined {
  const s = pod.spec;
  return (
    s?.containers.find((x) => x.name === name) ??
    s?.initContainers?.find((x) => x.name === name) ??
    s?.ephemeralContainers?.find((x) => x.name === name)
  );
}
