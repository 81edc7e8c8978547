import type { Container, Pod } from '../api/types.js';
import type { ContainerRuntimeStatus } from '../cri/runtimeState.js';
import type { PodActions } from './plan.js';

/** PURE: the words computePodActions (plan.ts) gives each decision, for the explain endpoint. */

/** The rule behind each decision of computePodActions, in words. */
export interface PlanReasons {
  /** Why a sandbox is created (none yet, not ready, network changed). */
  sandbox?: string;
  /** Why every container of the pod is killed. */
  killPod?: string;
  /** Container name → why it is started now. */
  start: Record<string, string>;
  /** Container name → why nothing is done to it (running, completed, not restarted). */
  idle: Record<string, string>;
  /** Why regular containers cannot start yet (initialization). */
  blocked?: string;
}

export const setOnce = (m: Record<string, string>, k: string, v: string): void => {
  if (m[k] === undefined) m[k] = v;
};

/** The restart policy that applies to a container, in words. */
export function policyWords(c: Container, pod: Pod): string {
  if (c.restartPolicyRules?.length) return 'its restartPolicyRules';
  if (c.restartPolicy !== undefined) return `its restartPolicy ${c.restartPolicy}`;
  return `the pod's restartPolicy ${pod.spec?.restartPolicy ?? 'Always'}`;
}

export function exitWords(s: ContainerRuntimeStatus): string {
  return `exited with code ${s.exitCode}${s.reason && s.reason !== 'Completed' && s.reason !== 'Error' ? ` (${s.reason})` : ''}`;
}

/** The actions of one plan in a line ("create sandbox, start init migrate, start web"); '' when none. */
export function summarizeActions(a: PodActions): string {
  const parts: string[] = [];
  // A new pod's "kill" has nothing to stop: not worth saying.
  if (a.killPod && !(a.createSandbox && a.sandboxId === '')) parts.push('kill pod');
  if (a.createSandbox) parts.push(`create sandbox (attempt ${a.attempt})`);
  for (const k of a.containersToKill) parts.push(`kill ${k.name}${k.reason ? ` (${k.reason})` : ''}`);
  for (const n of a.ephemeralContainersToStart) parts.push(`start ephemeral ${n}`);
  for (const n of a.initContainersToStart) parts.push(`start init ${n}`);
  for (const n of a.containersToStart) parts.push(`start ${n}`);
  return parts.join(', ');
}
