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

/** A container's reference: fieldPath spec.containers{name} / spec.initContainers{name}. */
export function containerRef(pod: Pod, c: Container): EventRef {
  const isInit = (pod.spec?.initContainers ?? []).some((x) => x.name === c.name);
  return { ...podRef(pod), fieldPath: `${isInit ? 'spec.initContainers' : 'spec.containers'}{${c.name}}` };
}
