import type { ObjectRef } from '../api/events.js';
import type { RestartPolicyOf } from '../api/pod.js';

/**
 * The shapes src/probes works on. They are structural subsets of the core/v1 API types (a
 * `Pod` from src/api is assignable to `ProbePod`), so this room depends on src/cri, src/util
 * and the shared pod vocabulary of src/api/pod.ts only, as the house plan asks.
 */

export type ProbeType = 'liveness' | 'readiness' | 'startup';

/** A cached probe result (upstream prober/results): Unknown is startup's initial value. */
export type ProbeResult = 'Success' | 'Failure' | 'Unknown';

/** What one probe run yields (upstream pkg/probe.Result). Warning counts as Success. */
export type ProbeOutcome = 'success' | 'warning' | 'failure' | 'unknown';

export interface HttpHeader {
  name: string;
  value: string;
}

export interface HttpGetAction {
  host?: string;
  path?: string;
  port: number | string;
  scheme?: string;
  httpHeaders?: HttpHeader[];
}

export interface TcpSocketAction {
  host?: string;
  port: number | string;
}

export interface ExecAction {
  command?: string[];
}

export interface GrpcAction {
  port: number;
  service?: string;
}

export interface SleepAction {
  seconds: number;
}

export interface ProbeSpec {
  exec?: ExecAction;
  httpGet?: HttpGetAction;
  tcpSocket?: TcpSocketAction;
  grpc?: GrpcAction;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

/** postStart / preStop (v1.LifecycleHandler). tcpSocket is accepted by old APIs but never run. */
export interface LifecycleHandler {
  exec?: ExecAction;
  httpGet?: HttpGetAction;
  sleep?: SleepAction;
  tcpSocket?: TcpSocketAction;
}

export interface ProbeContainer extends RestartPolicyOf {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler };
}

export interface ProbePod {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    deletionTimestamp?: string;
  };
  spec?: {
    containers: ProbeContainer[];
    initContainers?: ProbeContainer[];
    restartPolicy?: string;
  };
}

export interface ProbeContainerStatus {
  name: string;
  /** `<runtime>://<id>`. */
  containerID?: string;
  started?: boolean;
  state?: {
    running?: { startedAt?: string };
    terminated?: { exitCode: number };
    waiting?: unknown;
  };
}

/** The parts of the pod status (as the status manager caches it) a probe worker reads. */
export interface ProbePodStatus {
  phase?: string;
  podIP?: string;
  containerStatuses?: ProbeContainerStatus[];
  initContainerStatuses?: ProbeContainerStatus[];
}

/** Where probes and hooks record events (never blocks, never throws). */
export interface ProbeEventSink {
  event(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** Upstream API defaults (pkg/apis/core/v1/defaults.go). */
export const PROBE_DEFAULTS = {
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
  initialDelaySeconds: 0,
} as const;

/**
 * A probe field as the apiserver would have defaulted it: a missing, zero, negative or
 * non-finite value (which the apiserver defaults or refuses, but a kubelet may still be
 * handed) is the default, so a probe never runs in a tight loop.
 */
export function probeField(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** setTimeout's longest delay (2^31 − 1 ms, ~24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The version in User-Agent headers: kube-probe/<major>.<minor>. */
export const KUBE_MINOR_VERSION = '1.37';

/** The runtime ID of `<runtime>://<id>` (upstream ParseContainerID). */
export function runtimeId(containerID: string | undefined): string {
  const id = containerID ?? '';
  const i = id.indexOf('://');
  return i >= 0 ? id.slice(i + 3) : id;
}
