import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, ApiUnreachableError } from '../../../src/api/errors.js';
import {
  type EventSink,
  KubeEventRecorder,
  nodeRef,
  type ObjectRef,
  restEventSink,
} from '../../../src/api/events.js';
import type { Event } from '../../../src/api/types.js';

interface Call {
  op: 'create' | 'patch';
  namespace: string;
  name: string;
  body: Event | Record<string, unknown>;
}

/** Records calls; `fail` can make the next calls throw. */
function fakeSink(): EventSink & { calls: Call[]; fail: unknown[]; gate?: Promise<void> } {
  const sink = {
    calls: [] as Call[],
    fail: [] as unknown[],
    gate: undefined as Promise<void> | undefined,
    async create(namespace: string, event: Event): Promise<Event> {
      if (sink.gate) await sink.gate;
      const err = sink.fail.shift();
      if (err) throw err;
      sink.calls.push({ op: 'create', namespace, name: event.metadata.name ?? '', body: event });
      return event;
    },
    async patch(namespace: string, name: string, body: Record<string, unknown>): Promise<Event> {
      if (sink.gate) await sink.gate;
      const err = sink.fail.shift();
      if (err) throw err;
      sink.calls.push({ op: 'patch', namespace, name, body });
      return { metadata: { name }, involvedObject: {} };
    },
  };
  return sink;
}

const pod: ObjectRef = {
  kind: 'Pod',
  namespace: 'team-a',
  name: 'web-0',
  uid: 'uid-1',
  apiVersion: 'v1',
  fieldPath: 'spec.containers{app}',
  resourceVersion: '42',
};

const T0 = Date.parse('2026-11-25T14:00:00.250Z');

afterEach(() => {
  vi.useRealTimers();
});

describe('KubeEventRecorder', () => {
  it('writes a core/v1 Event the way the kubelet does', async () => {
    const sink = fakeSink();
    const r = new KubeEventRecorder({ sink, nodeName: 'worker-1', now: () => T0 });
    r.event(pod, 'Normal', 'Pulling', 'Pulling image "busybox"');
    await r.flush();
    expect(sink.calls).toHaveLength(1);
    const call = sink.calls[0];
    expect(call?.namespace).toBe('team-a');
    expect(call?.name).toMatch(/^web-0\.[0-9a-f]+$/);
    const nanos = BigInt(`0x${call?.name.split('.')[1]}`);
    expect(nanos / 1_000_000n).toBe(BigInt(T0));
    expect(call?.body).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: call?.name, namespace: 'team-a' },
      involvedObject: {
        kind: 'Pod',
        namespace: 'team-a',
        name: 'web-0',
        uid: 'uid-1',
        apiVersion: 'v1',
        resourceVersion: '42',
        fieldPath: 'spec.containers{app}',
      },
      reason: 'Pulling',
      message: 'Pulling image "busybox"',
      type: 'Normal',
      source: { component: 'kubelet', host: 'worker-1' },
      firstTimestamp: '2026-11-25T14:00:00Z',
      lastTimestamp: '2026-11-25T14:00:00Z',
      count: 1,
      reportingComponent: 'kubelet',
      reportingInstance: 'worker-1',
    });
  });

  it('puts node events in namespace default with the node name as uid', async () => {
    const sink = fakeSink();
    const r = new KubeEventRecorder({ sink, nodeName: 'worker-1', now: () => T0 });
    r.event(nodeRef('worker-1'), 'Normal', 'Starting', 'Starting kubelet.');
    await r.flush();
    expect(sink.calls[0]?.namespace).toBe('default');
    const body = sink.calls[0]?.body as Event | undefined;
    expect(body?.involvedObject).toEqual({
      kind: 'Node',
      name: 'worker-1',
      uid: 'worker-1',
    });
    expect(body?.metadata.namespace).toBe('default');
  });

  it('folds a repeat within 10 minutes into count/lastTimestamp, a later one is a new event', async () => {
    const sink = fakeSink();
    let now = T0;
    const r = new KubeEventRecorder({ sink, nodeName: 'n', now: () => now });
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    now += 30_000;
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    now += 30_000;
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await r.flush();
    const first = sink.calls[0]?.name;
    expect(sink.calls.map((c) => c.op)).toEqual(['create', 'patch', 'patch']);
    expect(sink.calls[1]).toEqual({
      op: 'patch',
      namespace: 'team-a',
      name: first,
      body: {
        count: 2,
        lastTimestamp: '2026-11-25T14:00:30Z',
        message: 'Back-off restarting failed container',
      },
    });
    expect(sink.calls[2]?.body).toMatchObject({ count: 3, lastTimestamp: '2026-11-25T14:01:00Z' });

    now += 11 * 60_000;
    r.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await r.flush();
    expect(sink.calls[3]?.op).toBe('create');
    expect(sink.calls[3]?.name).not.toBe(first);
    expect(r.stats).toEqual({ created: 2, patched: 2, dropped: 0, failed: 0 });
  });

  it('treats a different message, reason, type or object as a new event', async () => {
    const sink = fakeSink();
    const r = new KubeEventRecorder({ sink, nodeName: 'n', now: () => T0 });
    r.event(pod, 'Normal', 'Pulled', 'a');
    r.event(pod, 'Normal', 'Pulled', 'b');
    r.event(pod, 'Normal', 'Created', 'a');
    r.event(pod, 'Warning', 'Pulled', 'a');
    r.event({ ...pod, fieldPath: 'spec.containers{other}' }, 'Normal', 'Pulled', 'a');
    // resourceVersion is not part of the key (upstream getEventKey).
    r.event({ ...pod, resourceVersion: '43' }, 'Normal', 'Pulled', 'a');
    await r.flush();
    expect(sink.calls.map((c) => c.op)).toEqual(['create', 'create', 'create', 'create', 'create', 'patch']);
    expect(new Set(sink.calls.slice(0, 5).map((c) => c.name)).size).toBe(5);
  });

  it('re-creates an event that expired on the server under its old name', async () => {
    const sink = fakeSink();
    let now = T0;
    const r = new KubeEventRecorder({ sink, nodeName: 'n', now: () => now });
    r.event(pod, 'Normal', 'Pulled', 'x');
    await r.flush();
    sink.fail.push(new ApiError(404, 'NotFound', 'events "x" not found'));
    now += 1000;
    r.event(pod, 'Normal', 'Pulled', 'x');
    await r.flush();
    expect(sink.calls.map((c) => c.op)).toEqual(['create', 'create']);
    expect(sink.calls[1]?.name).toBe(sink.calls[0]?.name);
    expect(sink.calls[1]?.body).toMatchObject({ count: 2, firstTimestamp: '2026-11-25T14:00:00Z' });
  });

  it('retries unreachable errors, gives up at once on a rejection, never throws', async () => {
    const sink = fakeSink();
    const r = new KubeEventRecorder({ sink, nodeName: 'n', now: () => T0, maxTries: 3, retryDelayMs: 1 });
    sink.fail.push(new ApiUnreachableError('ECONNREFUSED'), new ApiUnreachableError('ECONNREFUSED'));
    r.event(pod, 'Normal', 'A', 'a');
    await r.flush();
    expect(sink.calls).toHaveLength(1);

    sink.fail.push(new ApiError(422, 'Invalid', 'bad'), new ApiUnreachableError('never used'));
    r.event(pod, 'Normal', 'B', 'b');
    await r.flush();
    expect(sink.calls).toHaveLength(1);
    expect(r.stats.failed).toBe(1);

    sink.fail.length = 0;
    sink.fail.push(...Array.from({ length: 3 }, () => new ApiUnreachableError('down')));
    r.event(pod, 'Normal', 'C', 'c');
    await r.flush();
    expect(r.stats).toMatchObject({ created: 1, failed: 2 });
  });

  it('rate limits like eventRecordQPS/eventBurst', async () => {
    vi.useFakeTimers({ now: T0 });
    const sink = fakeSink();
    const r = new KubeEventRecorder({ sink, nodeName: 'n', qps: 2, burst: 3 });
    for (let i = 0; i < 6; i++) r.event(pod, 'Normal', 'R', `m${i}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(sink.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(500);
    expect(sink.calls).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sink.calls).toHaveLength(6);
    await r.flush();
  });

  it('drops the oldest pending events when the queue is full', async () => {
    const sink = fakeSink();
    let open: () => void = () => {};
    sink.gate = new Promise((res) => {
      open = res;
    });
    const r = new KubeEventRecorder({ sink, nodeName: 'n', now: () => T0, maxQueue: 2 });
    for (let i = 0; i < 5; i++) r.event(pod, 'Normal', 'Q', `m${i}`);
    // m0 is in flight; m1 and m2 were pushed out by m3 and m4.
    sink.gate = undefined;
    open();
    await r.flush();
    expect(sink.calls.map((c) => (c.body as Event).message)).toEqual(['m0', 'm3', 'm4']);
    expect(r.stats.dropped).toBe(2);
  });

  it('stops with the signal: pending events are dropped, later ones ignored', async () => {
    const sink = fakeSink();
    let open: () => void = () => {};
    sink.gate = new Promise((res) => {
      open = res;
    });
    const ac = new AbortController();
    const r = new KubeEventRecorder({ sink, nodeName: 'n', now: () => T0, signal: ac.signal });
    r.event(pod, 'Normal', 'S', 'a');
    r.event(pod, 'Normal', 'S', 'b');
    ac.abort();
    r.event(pod, 'Normal', 'S', 'c');
    open();
    await r.flush();
    expect(sink.calls.map((c) => (c.body as Event).message)).toEqual(['a']);
    expect(r.stats.dropped).toBe(2);
  });

  it('never throws into the caller', () => {
    const r = new KubeEventRecorder({
      sink: {
        create: () => {
          throw new Error('sync throw');
        },
        patch: () => Promise.reject(new Error('x')),
      },
      nodeName: 'n',
    });
    expect(() => r.event(pod, 'Normal', 'X', 'y')).not.toThrow();
    return r.flush();
  });
});

describe('restEventSink', () => {
  it('creates in the namespace and patches strategically', async () => {
    const seen: unknown[][] = [];
    const client = {
      create: async <T>(path: string, body: unknown) => {
        seen.push(['create', path, body]);
        return body as T;
      },
      patch: async <T>(path: string, body: unknown, type: string) => {
        seen.push(['patch', path, body, type]);
        return body as T;
      },
    };
    const sink = restEventSink(client as never);
    await sink.create('default', { metadata: { name: 'a' }, involvedObject: {} });
    await sink.patch('default', 'a.1', { count: 2 });
    expect(seen).toEqual([
      ['create', '/api/v1/namespaces/default/events', { metadata: { name: 'a' }, involvedObject: {} }],
      ['patch', '/api/v1/namespaces/default/events/a.1', { count: 2 }, 'strategic'],
    ]);
  });
});
