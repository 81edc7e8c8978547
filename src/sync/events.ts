import type { EventRecorder, ObjectRef } from '../api/events.js';

/** The object an event is about (core/v1 ObjectReference). */
export type EventRef = ObjectRef;
export type { EventType } from '../api/events.js';

/** Where the sync layer records events; never blocks, never throws. */
export type EventSink = EventRecorder;

export const noEvents: EventSink = { event() {} };
