/**
 * The node conditions the kubelet owns (MemoryPressure, DiskPressure, PIDPressure, Ready) as
 * upstream's nodestatus setters compute them, and the node events their transitions emit. Pure.
 */
import type { NodeCondition } from '../api/types.js';

export interface RuntimeHealth {
  ready: boolean;
  /** Why not ready, in upstream's words (see aggregateErrors); ignored when ready. */
  message: string;
}

export interface PressureFlags {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export interface NodeStatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** "Node <name> status is now: <reason>" (upstream recordNodeStatusEvent). */
export function nodeStatusEvent(nodeName: string, reason: string): NodeStatusEvent {
  return { type: 'Normal', reason, message: `Node ${nodeName} status is now: ${reason}` };
}

/**
 * Joins error messages as apimachinery's errors.NewAggregate prints them: one message as is,
 * several (deduplicated, in order) as "[a, b]".
 */
export function aggregateErrors(messages: readonly string[]): string {
  const seen = [...new Set(messages.filter((m) => m !== ''))];
  if (seen.length === 1) return seen[0] ?? '';
  return seen.length === 0 ? '' : `[${seen.join(', ')}]`;
}

/** NodeSchedulable/NodeNotSchedulable when spec.unschedulable changed since last seen. */
export function schedulableEvent(
  nodeName: string,
  lastUnschedulable: boolean,
  unschedulable: boolean,
): NodeStatusEvent | undefined {
  if (lastUnschedulable === unschedulable) return undefined;
  return nodeStatusEvent(nodeName, unschedulable ? 'NodeNotSchedulable' : 'NodeSchedulable');
}

export interface PressureSpec {
  type: string;
  pick: (p: PressureFlags) => boolean;
  yes: [reason: string, message: string, event: string];
  no: [reason: string, message: string, event: string];
}

export const PRESSURE_CONDITIONS: PressureSpec[] = [
  {
    type: 'MemoryPressure',
    pick: (p) => p.memory,
    yes: [
      'KubeletHasInsufficientMemory',
      'kubelet has insufficient memory available',
      'NodeHasInsufficientMemory',
    ],
    no: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available', 'NodeHasSufficientMemory'],
  },
  {
    type: 'DiskPressure',
    pick: (p) => p.disk,
    yes: ['KubeletHasDiskPressure', 'kubelet has disk pressure', 'NodeHasDiskPressure'],
    no: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure', 'NodeHasNoDiskPressure'],
  },
  {
    type: 'PIDPressure',
    pick: (p) => p.pid,
    yes: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available', 'NodeHasInsufficientPID'],
    no: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available', 'NodeHasSufficientPID'],
  },
];

/** A pressure condition: only the heartbeat moves unless the status flips (from Unknown at first). */
export function pressureCondition(
  spec: PressureSpec,
  prev: NodeCondition | undefined,
  under: boolean,
  ts: string,
  nodeName: string,
  events: NodeStatusEvent[],
): NodeCondition {
  const c: NodeCondition = prev ? { ...prev } : { type: spec.type, status: 'Unknown' };
  c.lastHeartbeatTime = ts;
  const want = under ? 'True' : 'False';
  if (c.status !== want) {
    const [reason, message, event] = under ? spec.yes : spec.no;
    c.status = want;
    c.reason = reason;
    c.message = message;
    c.lastTransitionTime = ts;
    events.push(nodeStatusEvent(nodeName, event));
  }
  return c;
}

export const REQUIRED_CAPACITY = ['cpu', 'memory', 'pods', 'ephemeral-storage'];

/** Ready is rebuilt each time; lastTransitionTime survives while the status stays the same. */
export function readyCondition(
  prev: NodeCondition | undefined,
  health: RuntimeHealth,
  capacity: Record<string, string>,
  ts: string,
  nodeName: string,
  events: NodeStatusEvent[],
): NodeCondition {
  const errs: string[] = [];
  if (!health.ready) errs.push(health.message || 'container runtime is down');
  const missing = REQUIRED_CAPACITY.filter((r) => !(r in capacity));
  if (missing.length > 0) errs.push(`missing node capacity for resources: ${missing.join(', ')}`);
  const c: NodeCondition =
    errs.length === 0
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: aggregateErrors(errs) };
  c.lastHeartbeatTime = ts;
  if (prev && prev.status === c.status) {
    c.lastTransitionTime = prev.lastTransitionTime ?? ts;
  } else {
    c.lastTransitionTime = ts;
    // A brand-new Ready condition is not a transition upstream: no event.
    if (prev) events.push(nodeStatusEvent(nodeName, c.status === 'True' ? 'NodeReady' : 'NodeNotReady'));
  }
  return c;
}

export function upsert(conditions: NodeCondition[], c: NodeCondition): void {
  const i = conditions.findIndex((x) => x.type === c.type);
  if (i >= 0) conditions[i] = c;
  else conditions.push(c);
}
