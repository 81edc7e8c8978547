/**
 * The runtime's view of one pod, as the PLEG caches it (upstream kubecontainer.PodStatus).
 * Built from CRI sandboxes and containers that carry the io.kubernetes.pod.uid label. Times are
 * epoch milliseconds (0 = unset).
 */

export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
export const ANNOTATION_CONTAINER_HASH = 'io.kubernetes.container.hash';
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const ANNOTATION_POD_DELETION_GRACE = 'io.kubernetes.pod.deletionGracePeriod';
export const ANNOTATION_POD_TERMINATION_GRACE = 'io.kubernetes.pod.terminationGracePeriod';
export const ANNOTATION_PRESTOP_HANDLER = 'io.kubernetes.container.preStopHandler';
export const ANNOTATION_CONTAINER_PORTS = 'io.kubernetes.container.ports';

export type RuntimeContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface SandboxStatus {
  id: string;
  /** metadata.attempt: 0 for the first sandbox of a pod, +1 per re-creation. */
  attempt: number;
  ready: boolean;
  createdAt: number;
  /** Pod IPs reported by the runtime (primary first); empty for host network. */
  ips: string[];
  hostNetwork: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerRuntimeStatus {
  id: string;
  name: string;
  podSandboxId: string;
  state: RuntimeContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** The runtime's reason: Completed, Error, OOMKilled, ContainerCannotRun, ... */
  reason: string;
  message: string;
  /** The image as the runtime reports it (repo tag) and its ref (image ID / digest). */
  image: string;
  imageRef: string;
  /** From annotations written at creation (hash hex string; restart count). */
  hash: string;
  restartCount: number;
  /** Absolute host path of the container log (sandbox log dir + log_path), '' if unknown. */
  logPath: string;
  /** Host file bind-mounted at the container's terminationMessagePath, '' if none. */
  terminationLogPath: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodRuntimeStatus {
  uid: string;
  name: string;
  namespace: string;
  /** Newest first. */
  sandboxes: SandboxStatus[];
  /** Newest first (by createdAt). */
  containers: ContainerRuntimeStatus[];
  /** IPs of the newest ready sandbox (or the last known ones). */
  ips: string[];
  /** When this status was observed (epoch ms). */
  observedAt: number;
}

/** The newest instance of container `name`, if any. */
export function newestContainer(
  status: PodRuntimeStatus | undefined,
  name: string,
): ContainerRuntimeStatus | undefined {
  return status?.containers.find((c) => c.name === name);
}

/** All instances of container `name`, newest first. */
export function containerInstances(
  status: PodRuntimeStatus | undefined,
  name: string,
): ContainerRuntimeStatus[] {
  return status?.containers.filter((c) => c.name === name) ?? [];
}
