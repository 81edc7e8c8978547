/**
 * Probes and lifecycle hooks (upstream pkg/kubelet/prober, pkg/probe, pkg/kubelet/lifecycle).
 * Imports src/cri and src/util only; results go back to the sync layer through ProbeManager's
 * views and its onChange callback, hooks through LifecycleHandlerRunner.run.
 */
export { ProbeError } from './errors.js';
export { type ExecRunner, execProbe } from './exec.js';
export { grpcProbe, type HealthCheckRequest, type HealthCheckResponse, healthService } from './grpc.js';
export { doHttpGet, type HttpGetRequest, httpProbe, newHttpGetRequest } from './http.js';
export {
  type HookInput,
  type HookOutcome,
  LifecycleHandlerRunner,
  type LifecycleHandlerRunnerOptions,
} from './lifecycle.js';
export { ProbeManager, type ProbeManagerOptions } from './manager.js';
export { resolveContainerPort, tcpProbe } from './net.js';
export { probeOnce, runProbe } from './prober.js';
export type { ResultUpdate } from './results.js';
export * from './types.js';
export type { ProbeRunMetric } from './worker.js';
