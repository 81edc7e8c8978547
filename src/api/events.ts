import { sleep } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { TokenBucket } from '../util/rateLimiter.js';
import { ApiUnreachableError, isNotFound } from './errors.js';
import type { RestClient } from './rest.js';
import { type Event, rfc3339 } from './types.js';

export type EventType = 'Normal' | 'Warning';

/** The object an event is about (core/v1 ObjectReference). */
export interface ObjectRef {
  kind: 'Pod' | 'Node';
  /** Empty for Nodes: their events go to namespace "default". */
  namespace?: string;
  name: string;
  uid: string;
  /** Pods carry "v1"; upstream's node reference has none. */
  apiVersion?: 'v1';
  /** e.g. "spec.containers{app}". */
  fieldPath?: string;
  resourceVersion?: string;
}

export interface EventRecorder {
  /** Records an event; never blocks, never throws. */
  event(
    ref: ObjectRef,
    type: EventType,
    reason: string,
    message: string,
    annotations?: Record<string, string>,
  ): void;
}

/** A recorder that drops everything (no API client, tests). */
export const nullRecorder: EventRecorder = { event() {} };

/** The kubelet's reference to its Node, as upstream builds it: the UID is the node name. */
export function nodeRef(nodeName: string): ObjectRef {
  return { kind: 'Node', name: nodeName, uid: nodeName };
}

/** Where events go: the apiserver in production, a fake in tests. */
export interface EventSink {
  create(namespace: string, event: Event): Promise<Event>;
  patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<Event>;
}

export function restEventSink(client: Pick<RestClient, 'create' | 'patch'>): EventSink {
  const base = (ns: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/events`;
  return {
    create: (ns, event) => client.create<Event>(base(ns), event),
    patch: (ns, name, patch) =>
      client.patch<Event>(`${base(ns)}/${encodeURIComponent(name)}`, patch, 'strategic'),
  };
}

export interface EventRecorderOptions {
  sink: EventSink;
  /** source.host and reportingInstance. */
  nodeName: string;
  /** source.component and reportingComponent; default "kubelet". */
  component?: string;
  /** eventRecordQPS / eventBurst: 50 / 100. */
  qps?: number;
  burst?: number;
  /** Pending events kept; when full the oldest is dropped. Default 1000. */
  maxQueue?: number;
  /** A repeat within this long of the last one updates count/lastTimestamp. Default 10 min. */
  dedupeWindowMs?: number;
  /** Distinct events remembered for deduplication (upstream LRU: 4096). */
  maxCacheEntries?: number;
  /** Tries per event when the apiserver is unreachable (upstream: 12, 10 s apart). */
  maxTries?: number;
  retryDelayMs?: number;
  now?: () => number;
  log?: Logger;
  /** Stops sending: pending events are dropped. */
  signal?: AbortSignal;
}

export interface EventRecorderStats {
  created: number;
  patched: number;
  /** Dropped because the queue was full or the recorder stopped. */
  dropped: number;
  /** Rejected by the apiserver or unreachable after all tries. */
  failed: number;
}

interface Pending {
  ref: ObjectRef;
  type: EventType;
  reason: string;
  message: string;
  at: number;
  /** Event metadata annotations (eviction: offending_containers, starved_resource, ...). */
  annotations?: Record<string, string>;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
  last: number;
}

/**
 * core/v1 Events the way client-go's recorder writes them for the kubelet: named
 * `<object>.<hex nanoseconds>`, repeats folded into count/lastTimestamp by a strategic patch,
 * rate limited, sent by one background worker from a bounded queue. Callers never wait.
 */
export class KubeEventRecorder implements EventRecorder {
  private readonly queue: Pending[] = [];
  private readonly seen = new Map<string, Seen>();
  private readonly bucket: TokenBucket;
  private readonly now: () => number;
  private readonly log: Logger;
  private worker: Promise<void> | undefined;
  private lastNanos = 0n;
  private readonly counters: EventRecorderStats = { created: 0, patched: 0, dropped: 0, failed: 0 };

  constructor(private readonly opts: EventRecorderOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLogger;
    this.bucket = new TokenBucket(opts.qps ?? 50, opts.burst ?? 100, this.now);
    opts.signal?.addEventListener('abort', () => this.dropPending(), { once: true });
  }

  get stats(): Readonly<EventRecorderStats> {
    return { ...this.counters };
  }

  event(
    ref: ObjectRef,
    type: EventType,
    reason: string,
    message: string,
    annotations?: Record<string, string>,
  ): void {
    try {
      if (this.opts.signal?.aborted) {
        this.counters.dropped++;
        return;
      }
      this.queue.push({
        ref,
        type,
        reason,
        message,
        at: this.now(),
        ...(annotations ? { annotations } : {}),
      });
      const max = this.opts.maxQueue ?? 1000;
      while (this.queue.length > max) {
        this.queue.shift();
        this.counters.dropped++;
      }
      this.kick();
    } catch (err) {
      this.log.warn({ err: String(err), reason }, 'event recorder: dropped an event');
    }
  }

  /** Resolves when every queued event has been sent (or given up on). */
  async flush(): Promise<void> {
    while (this.worker) await this.worker;
  }

  private kick(): void {
    this.worker ??= this.drain().finally(() => {
      this.worker = undefined;
      // An event queued while the worker was finishing would otherwise wait for the next one.
      if (this.queue.length > 0 && !this.opts.signal?.aborted) this.kick();
    });
  }

  private dropPending(): void {
    this.counters.dropped += this.queue.length;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    const signal = this.opts.signal;
    for (let item = this.queue.shift(); item; item = this.queue.shift()) {
      try {
        await this.bucket.take(signal);
        await this.send(item);
      } catch (err) {
        if (signal?.aborted) {
          this.counters.dropped++;
          this.dropPending();
          return;
        }
        this.counters.failed++;
        this.log.warn({ err: String(err), reason: item.reason }, 'event recorder: could not write event');
      }
    }
  }

  private async send(item: Pending): Promise<void> {
    const key = eventKey(this.component, this.opts.nodeName, item);
    const prev = this.seen.get(key);
    const window = this.opts.dedupeWindowMs ?? 10 * 60_000;
    if (prev && item.at - prev.last <= window) {
      const count = prev.count + 1;
      const lastTimestamp = rfc3339(item.at);
      try {
        await this.withRetries(() =>
          this.opts.sink.patch(prev.namespace, prev.name, { count, lastTimestamp, message: item.message }),
        );
        this.remember(key, { ...prev, count, last: item.at });
        this.counters.patched++;
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The event expired on the server (1 h TTL): write it again under the same name.
        const ev = this.makeEvent(item, prev.name, count, prev.firstTimestamp);
        await this.withRetries(() => this.opts.sink.create(prev.namespace, ev));
        this.remember(key, { ...prev, count, last: item.at });
        this.counters.created++;
        return;
      }
    }
    const namespace = item.ref.namespace || 'default';
    const name = `${item.ref.name}.${this.nanos(item.at).toString(16)}`;
    const first = rfc3339(item.at);
    await this.withRetries(() => this.opts.sink.create(namespace, this.makeEvent(item, name, 1, first)));
    this.remember(key, { namespace, name, count: 1, firstTimestamp: first, last: item.at });
    this.counters.created++;
  }

  private get component(): string {
    return this.opts.component ?? 'kubelet';
  }

  private makeEvent(item: Pending, name: string, count: number, firstTimestamp: string): Event {
    const r = item.ref;
    const involvedObject: Event['involvedObject'] = { kind: r.kind, name: r.name, uid: r.uid };
    if (r.namespace) involvedObject.namespace = r.namespace;
    if (r.apiVersion) involvedObject.apiVersion = r.apiVersion;
    if (r.resourceVersion) involvedObject.resourceVersion = r.resourceVersion;
    if (r.fieldPath) involvedObject.fieldPath = r.fieldPath;
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name,
        namespace: r.namespace || 'default',
        ...(item.annotations ? { annotations: item.annotations } : {}),
      },
      involvedObject,
      reason: item.reason,
      message: item.message,
      type: item.type,
      source: { component: this.component, host: this.opts.nodeName },
      firstTimestamp,
      lastTimestamp: rfc3339(item.at),
      count,
      reportingComponent: this.component,
      reportingInstance: this.opts.nodeName,
    };
  }

  /** Retries only network failures: an apiserver rejection would be the same next time. */
  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    const tries = this.opts.maxTries ?? 12;
    const delay = this.opts.retryDelayMs ?? 10_000;
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ApiUnreachableError) || i >= tries) throw err;
        // Upstream jitters the first retry so recorders restarted together do not stampede.
        await sleep(i === 1 ? Math.random() * delay : delay, this.opts.signal);
      }
    }
  }

  private remember(key: string, s: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, s);
    const max = this.opts.maxCacheEntries ?? 4096;
    while (this.seen.size > max) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
  }

  /** Unix nanoseconds of `ms`, strictly increasing so two events never share a name. */
  private nanos(ms: number): bigint {
    let n = BigInt(Math.floor(ms)) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    if (n <= this.lastNanos) n = this.lastNanos + 1n;
    this.lastNanos = n;
    return n;
  }
}

/** Upstream getEventKey: source, involved object (not its resourceVersion), type, reason, message. */
function eventKey(component: string, host: string, e: Pending): string {
  const r = e.ref;
  return JSON.stringify([
    component,
    host,
    r.kind,
    r.namespace ?? '',
    r.name,
    r.fieldPath ?? '',
    r.uid,
    r.apiVersion ?? '',
    e.type,
    e.reason,
    e.message,
  ]);
}
