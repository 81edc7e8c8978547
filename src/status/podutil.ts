import type { ContainerStatus, PodCondition, PodStatus } from '../api/types.js';

export type ContainerState = NonNullable<ContainerStatus['state']>;

/** Go's `fmt.Sprintf("%s", []string{...})`: `[a b]`. */
export const goSlice = (names: readonly string[]): string => `[${names.join(' ')}]`;

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

/** Deep copy of plain JSON data. */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

export const emptyStatus = (): PodStatus => ({});
