import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from '../api/types.js';

export type ContainerState = NonNullable<ContainerStatus['state']>;

/** Pod phases (v1.PodPhase). */
export const PHASE = {
  pending: 'Pending',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
} as const;

export const isTerminalPhase = (phase: string | undefined): boolean =>
  phase === PHASE.succeeded || phase === PHASE.failed;

/** A sidecar: an init container with restartPolicy Always (upstream IsRestartableInitContainer). */
export const isRestartableInitContainer = (c: Container | undefined): boolean =>
  c?.restartPolicy === 'Always';

/** Go's `fmt.Sprintf("%s", []string{...})`: `[a b]`. */
export const goSlice = (names: readonly string[]): string => `[${names.join(' ')}]`;

const CONFIG_SOURCE = 'kubernetes.io/config.source';
const CONFIG_MIRROR = 'kubernetes.io/config.mirror';

/** A pod from a file or http source (upstream kubetypes.IsStaticPod). */
export function isStaticPod(pod: Pod): boolean {
  const source = pod.metadata?.annotations?.[CONFIG_SOURCE];
  return source !== undefined && source !== 'api';
}

export const isMirrorPod = (pod: Pod): boolean => pod.metadata?.annotations?.[CONFIG_MIRROR] !== undefined;

export function findCondition(
  conditions: readonly PodCondition[] | undefined,
  type: string,
): PodCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function findStatus(
  statuses: readonly ContainerStatus[] | undefined,
  name: string,
): ContainerStatus | undefined {
  return statuses?.find((s) => s.name === name);
}

/** Replaces the condition of the same type in place, or appends it (upstream ReplaceOrAppendPodCondition). */
export function replaceOrAppendCondition(
  conditions: PodCondition[],
  condition: PodCondition,
): PodCondition[] {
  const i = conditions.findIndex((c) => c.type === condition.type);
  if (i >= 0) conditions[i] = condition;
  else conditions.push(condition);
  return conditions;
}

export { containerShouldRestart } from '../api/pod.js';

/** Deep copy of plain JSON data. */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

export const emptyStatus = (): PodStatus => ({});
