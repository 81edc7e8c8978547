import type { RuntimeContainerState } from './runtimeState.js';
import type { ContainerStateOut, PodSandboxStateOut } from './types.js';

/** CRI int64 nanoseconds (decimal string) → epoch milliseconds; 0 stays 0. */
export function nanosToMs(ns: string | number | undefined | null): number {
  if (ns === undefined || ns === null || ns === '' || ns === '0' || ns === 0) return 0;
  return Number(BigInt(ns) / 1_000_000n);
}

export function toContainerState(s: ContainerStateOut | undefined): RuntimeContainerState {
  switch (s) {
    case 'CONTAINER_CREATED':
      return 'created';
    case 'CONTAINER_RUNNING':
      return 'running';
    case 'CONTAINER_EXITED':
      return 'exited';
    default:
      return 'unknown';
  }
}

export const sandboxReady = (s: PodSandboxStateOut | undefined): boolean => s === 'SANDBOX_READY';
