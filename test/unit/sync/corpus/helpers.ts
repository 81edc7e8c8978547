import type { Container, Pod } from '../../../../src/api/types.js';
import { testPod } from '../../../helpers/kubeletHarness.js';

// A corpus of hostile and malformed pod specs: things the apiserver accepts (or that reach a
// kubelet another way: static pods, an older or careless apiserver) and that a careless kubelet
// mishandles. Each case names the outcome a user sees in the pod's status or events, with
// upstream's reason strings (pkg/kubelet at v1.37.2) where upstream has one.

export const BUSYBOX = 'localhost:5999/kubelet-ts/busybox:1.36';
export const ESCAPE = 'kts-corpus-pwned';

/** What a user sees. All listed fields must hold at once. */
export interface Outcome {
  /** Pod status.phase. */
  phase?: string;
  /** Pod status.reason (admission rejections, DeadlineExceeded). */
  reason?: string;
  /** The first container's (or `container`'s) state: waiting/terminated reason, or 'running'. */
  state?: string;
  /** Accepted alternatives for `state` (a back-off reason that follows the first error). */
  states?: string[];
  container?: string;
  /** A pod event reason that must have been recorded. */
  event?: string;
  /** Substring of the status message, the waiting/terminated message, or the event. */
  message?: string;
  exitCode?: number;
}

export interface HostileCase {
  name: string;
  pod: Pod;
  expect: Outcome;
}

export const c = (extra: Partial<Container> = {}): Container => ({
  name: 'app',
  image: BUSYBOX,
  command: ['sleep', 'infinity'],
  ...extra,
});

export function pod(
  name: string,
  spec: Partial<NonNullable<Pod['spec']>> = {},
  meta: Partial<Pod['metadata']> = {},
): Pod {
  const p = testPod(name, { containers: [c()], ...spec });
  p.metadata = { ...p.metadata, ...meta };
  return p;
}

export const withC = (
  name: string,
  extra: Partial<Container>,
  spec: Partial<NonNullable<Pod['spec']>> = {},
) => pod(name, { containers: [c(extra)], ...spec });

export const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))
  .filter((ch) => ch !== '=')
  .join('');

export const rejected = (reason: string, message?: string): Outcome => ({ phase: 'Failed', reason, message });
export const waiting = (state: string, message?: string): Outcome => ({ phase: 'Pending', state, message });
export const running: Outcome = { phase: 'Running', state: 'running' };
export const failedMount = (message?: string): Outcome => ({
  phase: 'Pending',
  state: 'ContainerCreating',
  event: 'FailedMount',
  message,
});

export const vol = (
  name: string,
  v: Omit<NonNullable<NonNullable<Pod['spec']>['volumes']>[number], 'name'>,
) => ({ name, ...v }) as NonNullable<NonNullable<Pod['spec']>['volumes']>[number];
export const mounted = (name: string, v: Parameters<typeof vol>[1], extra: Partial<Container> = {}) =>
  withC(name, { volumeMounts: [{ name: 'v', mountPath: '/v' }], ...extra }, { volumes: [vol('v', v)] });
