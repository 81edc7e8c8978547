import type { EventRecorder, ObjectRef } from '../api/events.js';
import type { Container, Pod } from '../api/types.js';

/** The object an event is about (core/v1 ObjectReference). */
export type EventRef = ObjectRef;
export type { EventType } from '../api/events.js';

/** Where the sync layer records events; never blocks, never throws. */
export type EventSink = EventRecorder;

export const noEvents: EventSink = { event() {} };

export function podRef(pod: Pod): EventRef {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
  };
}

/**
 * A container's reference (upstream GenerateContainerRef): fieldPath spec.containers{name},
 * spec.initContainers{name} or spec.ephemeralContainers{name}.
 */
export function containerRef(pod: Pod, c: Container): EventRef {
  const has = (list: readonly { name: string }[] | undefined) => (list ?? []).some((x) => x.name === c.name);
  const field = has(pod.spec?.containers)
    ? 'spec.containers'
    : has(pod.spec?.initContainers)
      ? 'spec.initContainers'
      : has(pod.spec?.ephemeralContainers)
        ? 'spec.ephemeralContainers'
        : 'spec.containers';
  return { ...podRef(pod), fieldPath: `${field}{${c.name}}` };
}
