import { containerRef, podDesc } from '../api/pod.js';
import { ProbeError } from './errors.js';
import { type ExecRunner, execProbe, expandStatic } from './exec.js';
import { grpcProbe } from './grpc.js';
import { httpProbe, newHttpGetRequest } from './http.js';
import { resolveContainerPort, tcpProbe } from './net.js';
import {
  MAX_TIMER_MS,
  PROBE_DEFAULTS,
  type ProbeContainer,
  type ProbeEventSink,
  type ProbeOutcome,
  type ProbePod,
  type ProbeSpec,
  type ProbeType,
  probeField,
} from './types.js';

/** Upstream maxProbeRetries: a probe that errors (cannot run) is retried this often per run. */
const MAX_PROBE_RETRIES = 3;

const TITLE: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

export function probeSpecOf(c: ProbeContainer, type: ProbeType): ProbeSpec | undefined {
  return type === 'liveness' ? c.livenessProbe : type === 'readiness' ? c.readinessProbe : c.startupProbe;
}

export interface ProbeTarget {
  pod: ProbePod;
  container: ProbeContainer;
  /** Runtime container ID (no `containerd://` prefix). */
  containerId: string;
  podIP: string;
}

/** Runs one handler once: exec, httpGet, tcpSocket or grpc (upstream prober.runProbe). */
export async function runProbe(
  exec: ExecRunner,
  spec: ProbeSpec,
  t: ProbeTarget,
  signal?: AbortSignal,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  // Capped at the longest timer Node can set (a longer timeout would fire at once).
  const timeoutSeconds = Math.min(
    probeField(spec.timeoutSeconds, PROBE_DEFAULTS.timeoutSeconds),
    Math.floor(MAX_TIMER_MS / 1000),
  );
  if (spec.exec) {
    const cmd = expandStatic(spec.exec.command ?? [], t.container.env ?? []);
    return execProbe(exec, t.containerId, cmd, timeoutSeconds, signal);
  }
  if (spec.httpGet) {
    const req = newHttpGetRequest(spec.httpGet, t.container, t.podIP, 'probe');
    return httpProbe(req, timeoutSeconds * 1000, signal);
  }
  if (spec.tcpSocket) {
    const port = resolveContainerPort(spec.tcpSocket.port, t.container);
    return tcpProbe(spec.tcpSocket.host || t.podIP, port, timeoutSeconds * 1000, signal);
  }
  if (spec.grpc) {
    return grpcProbe(t.podIP, spec.grpc.port, spec.grpc.service ?? '', timeoutSeconds, signal);
  }
  throw new ProbeError(`missing probe handler for ${podDesc(t.pod)}:${t.container.name}`);
}

export type ProbeRunResult = { result: 'Success' | 'Failure' } | { error: ProbeError };

/**
 * One probe of a container with upstream's retries and events (prober.probe): a run that
 * errors is retried up to 3 times, then reported as "<Type> probe errored and resulted in
 * <outcome> state: <err>" and thrown away by the worker; a failure emits Unhealthy "<Type>
 * probe failed: <output>"; a redirect warning emits ProbeWarning and counts as success.
 */
export async function probeOnce(
  exec: ExecRunner,
  events: ProbeEventSink,
  type: ProbeType,
  t: ProbeTarget,
  signal?: AbortSignal,
): Promise<ProbeRunResult> {
  const spec = probeSpecOf(t.container, type);
  if (!spec) return { result: 'Success' };
  const ref = () => containerRef(t.pod, t.container.name);
  let last: ProbeError | undefined;
  for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
    try {
      const { outcome, output } = await runProbe(exec, spec, t, signal);
      // A worker stopped mid-run: the outcome says nothing about the container.
      if (signal?.aborted) return { error: new ProbeError('probe cancelled') };
      switch (outcome) {
        case 'success':
          return { result: 'Success' };
        case 'warning':
          events.event(ref(), 'Warning', 'ProbeWarning', `${TITLE[type]} probe warning: ${output}`);
          return { result: 'Success' };
        case 'failure':
          events.event(ref(), 'Warning', 'Unhealthy', `${TITLE[type]} probe failed: ${output}`);
          return { result: 'Failure' };
        default:
          return { result: 'Failure' };
      }
    } catch (err) {
      last = err instanceof ProbeError ? err : new ProbeError(String(err), 'unknown', { cause: err });
      if (signal?.aborted) break;
    }
  }
  const error = last ?? new ProbeError('probe failed');
  if (!signal?.aborted) {
    events.event(
      ref(),
      'Warning',
      'Unhealthy',
      `${TITLE[type]} probe errored and resulted in ${error.outcome} state: ${error.message}`,
    );
  }
  return { error };
}
