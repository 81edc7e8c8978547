import { isSidecar } from '../api/pod.js';
import type { Container, Pod } from '../api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../cri/runtimeState.js';
import type { TimelineEntry } from '../timeline/types.js';
import { formatDuration } from '../util/duration.js';
import type { StartFailure } from './kuberuntime/types.js';
import { computePodActions, type ProbeResult } from './plan.js';
import type { WorkerState } from './podWorkers.js';

/**
 * PURE: what the kubelet would do next to a pod and why (issue 18's explain): the output of
 * computePodActions on the cached runtime state with the rule behind each action, plus what
 * holds the pod back — admission, crash and image back-offs, init containers, steps in flight.
 */

export interface ExplainInput {
  pod: Pod;
  /** Epoch ms. */
  now: number;
  /** Monotonic ms on the timeline's clock (for steps in flight). */
  monoNow: number;
  worker: WorkerState | undefined;
  /** Admission's refusal, if any. */
  rejection?: { reason: string; message: string };
  runtime: PodRuntimeStatus | undefined;
  liveness: (containerId: string) => ProbeResult | undefined;
  startup: (containerId: string) => ProbeResult | undefined;
  /** The CrashLoopBackOff state (the kuberuntime manager's Backoff, read only). */
  crashBackoff: {
    get(key: string): number;
    lastUpdate(key: string): number | undefined;
    isInBackOffSince(key: string, eventTime: number, now: number): boolean;
  };
  /** crashBackoffKey of kuberuntime/container.ts. */
  backoffKey: (pod: Pod, name: string, hash: string) => string;
  /** The last failed start per container (the reason cache: image pulls, config errors). */
  startFailures: ReadonlyMap<string, StartFailure>;
  /** The pod's timeline, in start order. */
  timeline: readonly TimelineEntry[];
}

export interface ExplainedAction {
  /** "create sandbox", "kill pod", "start container web", "kill container web", "wait". */
  action: string;
  container?: string;
  why: string;
}

export interface Explanation {
  pod: string;
  uid: string;
  /** The pod worker's state, or "not admitted", or "unknown" (no worker). */
  state: string;
  /** The answer in one line. */
  summary: string;
  /** What the next sync would do, each with the rule that decided it. */
  actions: ExplainedAction[];
  /** What holds the pod back (back-offs, init containers, admission, steps in flight). */
  waiting: string[];
  /** Container name → what the kubelet thinks of it now. */
  containers: Record<string, string>;
}

const secs = (ms: number) => `${Math.max(0, Math.round(ms / 1000))}s`;

/** "512Mi" / "300m" for an admission message's numbers. */
function quantity(resource: string, v: number): string {
  if (resource === 'cpu') return `${v}m`;
  if (resource === 'pods') return String(v);
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${Number.isInteger(x) ? x : x.toFixed(1)}${units[i]}`;
}

/** Admission's refusal in words: "OutOfmemory: 512Mi requested, 300Mi allocatable left (…)". */
export function explainRejection(r: { reason: string; message: string }): string {
  const m = /enough resource: ([\w-]+), requested: (\d+), used: (\d+), capacity: (\d+)/.exec(r.message);
  if (!m) return `not admitted: ${r.reason}: ${r.message.trim()}`;
  const [, res = '', req, used, cap] = m;
  const [q, u, c] = [Number(req), Number(used), Number(cap)];
  return `not admitted: ${r.reason}, ${quantity(res, q)} ${res} requested, ${quantity(res, c - u)} allocatable left (${quantity(res, u)} of ${quantity(res, c)} used by other pods)`;
}

const lastEntry = (t: readonly TimelineEntry[], f: (e: TimelineEntry) => boolean) => [...t].reverse().find(f);

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

/** Why a container is to be killed, with the probe's threshold and when it last failed. */
function killWhy(x: ExplainInput, c: Container | undefined, name: string, message: string, reason: string) {
  if (reason !== 'LivenessProbe' && reason !== 'StartupProbe') return message;
  const type = reason === 'LivenessProbe' ? 'liveness' : 'startup';
  const probe = reason === 'LivenessProbe' ? c?.livenessProbe : c?.startupProbe;
  const failed = lastEntry(
    x.timeline,
    (e) => e.kind === 'probe' && e.container === name && e.step === `${type} Failure`,
  );
  return `${message}: ${type} probe failed ${probe?.failureThreshold ?? 3} times in a row${failed ? ` (at ${failed.time})` : ''}`;
}

/** What holds a container back from starting now (crash back-off, image, config), or undefined. */
function startGate(
  x: ExplainInput,
  name: string,
  prev: ContainerRuntimeStatus | undefined,
): string | undefined {
  if (prev?.state === 'exited') {
    const key = x.backoffKey(x.pod, name, prev.hash);
    const since = prev.finishedAt || x.now;
    // This exit was already counted: its restart is under way (the runtime cache is older).
    const counted = x.crashBackoff.lastUpdate(key) === since;
    if (!counted && x.crashBackoff.isInBackOffSince(key, since, x.now)) {
      const delay = x.crashBackoff.get(key);
      return `container ${name}: back-off ${formatDuration(delay)} restarting failed container (CrashLoopBackOff), ${secs(since + delay - x.now)} left; it ${prev.exitCode === 0 ? 'completed' : `exited with code ${prev.exitCode}`} at ${new Date(since).toISOString()}`;
    }
  }
  const f = x.startFailures.get(name);
  if (f) return `container ${name}: ${f.reason}: ${f.message}`;
  return undefined;
}

/** The newest kill of a container the timeline saw (a Killing event), for "why did it restart". */
function lastKill(x: ExplainInput, name: string): string | undefined {
  const k = lastEntry(x.timeline, (e) => e.kind === 'event' && e.step === 'Killing' && e.container === name);
  return k ? `killed at ${k.time}: ${k.detail}` : undefined;
}

function containerState(x: ExplainInput, c: Container): string {
  const s = x.runtime?.containers.find((r) => r.name === c.name);
  if (!s) return 'not created yet';
  const restarts = s.restartCount > 0 ? `, restarted ${s.restartCount} time(s)` : '';
  const killed = s.restartCount > 0 ? lastKill(x, c.name) : undefined;
  const ready =
    s.state === 'running' && c.readinessProbe
      ? lastEntry(
          x.timeline,
          (e) => e.kind === 'probe' && e.container === c.name && e.step.startsWith('readiness'),
        )
      : undefined;
  const readiness = ready ? `, readiness ${ready.step.split(' ')[1]} since ${ready.time}` : '';
  const base =
    s.state === 'running'
      ? `running since ${new Date(s.startedAt).toISOString()}`
      : s.state === 'exited'
        ? `exited with code ${s.exitCode}${s.reason ? ` (${s.reason})` : ''} at ${new Date(s.finishedAt).toISOString()}`
        : s.state;
  return `${base}${restarts}${readiness}${killed ? `; last ${killed}` : ''}`;
}

export function explainPod(x: ExplainInput): Explanation {
  const { pod } = x;
  const out: Explanation = {
    pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
    uid: pod.metadata?.uid ?? '',
    state: x.worker ?? 'unknown',
    summary: '',
    actions: [],
    waiting: [],
    containers: {},
  };
  for (const c of allContainers(pod)) out.containers[c.name] = containerState(x, c);
  // Steps in flight; a worker pass (which holds the pulls and calls) only when nothing inside it
  // is open and it has run for a while: a pass of a few milliseconds is no answer.
  const open = x.timeline.filter((e) => e.open);
  const inner = open.filter((e) => e.kind !== 'worker');
  const slowPasses = open.filter((e) => e.kind === 'worker' && x.monoNow - e.at >= 5_000);
  for (const e of inner.length > 0 ? inner : slowPasses) {
    out.waiting.push(
      `in progress: ${e.step}${e.container ? ` for ${e.container}` : ''}, for ${secs(x.monoNow - e.at)} (since ${e.time})`,
    );
  }

  if (x.rejection) {
    out.state = 'not admitted';
    out.summary = explainRejection(x.rejection);
    return out;
  }
  if (x.worker === 'terminating' || x.worker === 'terminated' || x.worker === 'finished') {
    const kill = lastEntry(x.timeline, (e) => e.kind === 'kill');
    const why = kill
      ? `${kill.step}${kill.result ? ` (${kill.result})` : ''}: ${kill.detail ?? ''}`
      : 'the pod reached a terminal phase';
    out.summary = x.worker === 'terminating' ? `terminating: ${why}` : `${x.worker}: ${why}`;
    out.actions.push({ action: x.worker === 'terminating' ? 'kill pod' : 'nothing', why });
    return out;
  }
  if (x.worker === undefined) {
    out.summary = 'the kubelet has no worker for this pod yet (not admitted or not seen)';
    return out;
  }

  const a = computePodActions({ pod, runtime: x.runtime, liveness: x.liveness, startup: x.startup });
  const r = a.reasons;
  if (a.killPod && !(a.createSandbox && a.sandboxId === '')) {
    out.actions.push({ action: 'kill pod', why: r.killPod ?? '' });
  }
  if (a.createSandbox)
    out.actions.push({ action: `create sandbox (attempt ${a.attempt})`, why: r.sandbox ?? '' });
  const spec = (n: string) => allContainers(pod).find((c) => c.name === n);
  for (const k of a.containersToKill) {
    out.actions.push({
      action: 'kill container',
      container: k.name,
      why: killWhy(x, spec(k.name), k.name, k.message, k.reason),
    });
  }
  const starts = [...a.ephemeralContainersToStart, ...a.initContainersToStart, ...a.containersToStart];
  for (const n of starts) {
    const prev = x.runtime?.containers.find((s) => s.name === n);
    const gate = a.createSandbox ? undefined : startGate(x, n, prev);
    if (gate) {
      out.waiting.push(gate);
      out.actions.push({ action: 'wait', container: n, why: gate.replace(`container ${n}: `, '') });
    } else {
      out.actions.push({ action: 'start container', container: n, why: r.start[n] ?? '' });
    }
  }
  if (!a.initialized && r.blocked) {
    const running = (pod.spec?.initContainers ?? []).find(
      (c) => !isSidecar(c) && x.runtime?.containers.find((s) => s.name === c.name)?.state === 'running',
    );
    const since = running ? x.runtime?.containers.find((s) => s.name === running.name)?.startedAt : undefined;
    out.waiting.push(
      `blocked: ${r.blocked}${since ? ` (running since ${new Date(since).toISOString()})` : ''}`,
    );
  }
  for (const [n, why] of Object.entries(r.idle)) {
    if (!why.endsWith('is running')) out.containers[n] = `${out.containers[n]}; ${why}`;
  }

  out.summary =
    out.waiting.find((w) => !w.startsWith('in progress')) ??
    (inner.length > 0 ? out.waiting[0] : undefined) ??
    (out.actions[0]
      ? `${out.actions[0].action}${out.actions[0].container ? ` ${out.actions[0].container}` : ''}: ${out.actions[0].why}`
      : 'nothing to do: every container is as it should be');
  return out;
}
