import type {
  CoreV1Event,
  V1ConfigMap,
  V1Container,
  V1ContainerStatus,
  V1Lease,
  V1Node,
  V1NodeCondition,
  V1NodeStatus,
  V1ObjectMeta,
  V1Pod,
  V1PodCondition,
  V1PodSpec,
  V1PodStatus,
  V1Secret,
  V1Service,
  V1Status,
} from '@kubernetes/client-node';

/**
 * An API object as it travels on the wire (JSON): client-node's model types with every `Date`
 * replaced by the RFC 3339 string the apiserver actually sends. kubelet-ts reads and writes raw
 * JSON, so these are the types of what we really hold.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type Pod = Wire<V1Pod>;
export type PodSpec = Wire<V1PodSpec>;
export type PodStatus = Wire<V1PodStatus>;
export type PodCondition = Wire<V1PodCondition>;
export type Container = Wire<V1Container>;
export type ContainerStatus = Wire<V1ContainerStatus>;
export type ObjectMeta = Wire<V1ObjectMeta>;
export type Node = Wire<V1Node>;
export type NodeStatus = Wire<V1NodeStatus>;
export type NodeCondition = Wire<V1NodeCondition>;
export type Lease = Wire<V1Lease>;
export type Event = Wire<CoreV1Event>;
export type ConfigMap = Wire<V1ConfigMap>;
export type Secret = Wire<V1Secret>;
export type Service = Wire<V1Service>;
export type Status = Wire<V1Status>;

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/** RFC 3339 with whole seconds, as metav1.Time marshals: 2026-11-25T14:42:05Z. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime marshals (Lease renewTime, event times). */
export function rfc3339Micro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
