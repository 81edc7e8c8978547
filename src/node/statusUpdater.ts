import { type EventRecorder, nodeRef, nullRecorder } from '../api/events.js';
import type { Node } from '../api/types.js';
import type { HostFacts } from '../host/types.js';
import { onAbort } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { describeError, jittered, type NodeApiClient, nodePath } from './client.js';
import { nodeStatusPatch, requiredLabels } from './patch.js';
import {
  buildNodeStatus,
  type NodeConfig,
  type NodeImage,
  type NodeStatusEvent,
  type NodeStatusInput,
  nodeStatusChanged,
  type PressureFlags,
  type RuntimeHealth,
  type RuntimeInfo,
  schedulableEvent,
} from './setters.js';

type Getter<T> = T | (() => T);
const resolve = <T>(v: Getter<T>): T => (typeof v === 'function' ? (v as () => T)() : v);

export interface NodeStatusUpdaterOptions {
  client: NodeApiClient;
  config: NodeConfig;
  facts: Getter<HostFacts>;
  /** The CRI runtime's name and version (may become known only after the first Version call). */
  runtime: Getter<RuntimeInfo>;
  runtimeHealth: () => RuntimeHealth;
  pressure: () => PressureFlags;
  images: () => Promise<readonly NodeImage[]>;
  /** runtimeHandlers / features / swap, when the caller knows them. */
  extras?: () => Pick<NodeStatusInput, 'runtimeHandlers' | 'features' | 'swapBytes'>;
  recorder?: EventRecorder;
  log?: Logger;
  /** nodeStatusUpdateFrequency: 10 s. */
  updateFrequencyMs?: number;
  /** nodeStatusReportFrequency: 5 min (patch even when nothing but heartbeats changed). */
  reportFrequencyMs?: number;
  jitterFactor?: number;
  /** nodeStatusUpdateRetry: 5. */
  retries?: number;
  /** Emit the node event "Starting kubelet." when run() starts (upstream BirthCry). Default true. */
  emitStarting?: boolean;
  now?: () => number;
}

export interface NodeStatusUpdaterStats {
  /** Cycles run (each up to `retries` tries). */
  syncs: number;
  gets: number;
  patches: number;
  /** Cycles that found nothing worth sending. */
  skipped: number;
  failedTries: number;
}

/**
 * The node status loop (upstream syncNodeStatus/updateNodeStatus): every update period read the
 * Node, recompute its status with the pure setters, and PATCH nodes/<name>/status only when
 * something besides heartbeat times changed or the report period has passed. The Lease is the
 * heartbeat; this keeps the Node object honest.
 */
export class NodeStatusUpdater {
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;
  private lastReport = Number.NEGATIVE_INFINITY;
  private lastUnschedulable: boolean;
  private wake: (() => void) | undefined;
  private wakePending = false;
  private running: Promise<boolean> | undefined;
  private readonly counters: NodeStatusUpdaterStats = {
    syncs: 0,
    gets: 0,
    patches: 0,
    skipped: 0,
    failedTries: 0,
  };

  constructor(private readonly opts: NodeStatusUpdaterOptions) {
    this.log = opts.log ?? silentLogger;
    this.recorder = opts.recorder ?? nullRecorder;
    this.now = opts.now ?? Date.now;
    this.lastUnschedulable = !(opts.config.registerSchedulable ?? true);
  }

  get stats(): Readonly<NodeStatusUpdaterStats> {
    return { ...this.counters };
  }

  /** Runs the loop until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    const name = this.opts.config.nodeName;
    if (this.opts.emitStarting ?? true)
      this.recorder.event(nodeRef(name), 'Normal', 'Starting', 'Starting kubelet.');
    const period = this.opts.updateFrequencyMs ?? 10_000;
    const jitter = this.opts.jitterFactor ?? 0.04;
    while (!signal.aborted) {
      try {
        await this.sync(signal);
      } catch (err) {
        if (!signal.aborted) this.log.error({ err: describeError(err) }, 'Unable to update node status');
      }
      await this.waitOrWake(jittered(period, jitter), signal);
    }
  }

  /** Ask for a status update now (e.g. runtime health flipped) instead of at the next period. */
  updateNow(): void {
    this.wakePending = true;
    this.wake?.();
  }

  /**
   * One cycle with up to `retries` tries; resolves true when a patch was sent. Concurrent calls
   * share the cycle in flight.
   */
  sync(signal?: AbortSignal): Promise<boolean> {
    this.running ??= this.syncWithRetries(signal).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async syncWithRetries(signal?: AbortSignal): Promise<boolean> {
    this.counters.syncs++;
    const retries = this.opts.retries ?? 5;
    for (let i = 0; i < retries; i++) {
      try {
        return await this.trySync(i, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        this.counters.failedTries++;
        this.log.warn({ err: describeError(err), try: i + 1 }, 'Error updating node status, will retry');
      }
    }
    throw new Error('update node status exceeds retry count');
  }

  private async trySync(tryNumber: number, signal?: AbortSignal): Promise<boolean> {
    const { config } = this.opts;
    const path = nodePath(config.nodeName);
    // The first try reads from the apiserver's cache, like upstream; retries go to etcd.
    const query = tryNumber === 0 ? { resourceVersion: '0' } : undefined;
    const old = await this.opts.client.get<Node>(path, { query, signal });
    this.counters.gets++;

    const facts = resolve(this.opts.facts);
    const images = await this.opts.images().catch((err: unknown) => {
      this.log.warn({ err: describeError(err) }, 'Error getting image list');
      return undefined;
    });
    const now = this.now();
    const { status, events } = buildNodeStatus(old.status, {
      config,
      facts,
      runtime: resolve(this.opts.runtime),
      health: this.opts.runtimeHealth(),
      pressure: this.opts.pressure(),
      images,
      ...(this.opts.extras?.() ?? {}),
      now,
    });
    const sched = schedulableEvent(config.nodeName, this.lastUnschedulable, old.spec?.unschedulable === true);
    this.lastUnschedulable = old.spec?.unschedulable === true;
    if (sched) this.record([sched]);

    const labels = requiredLabels(old, facts.operatingSystem, facts.architecture);
    const changed = nodeStatusChanged(old.status, status) || Object.keys(labels).length > 0;
    const reportDue = now - this.lastReport >= (this.opts.reportFrequencyMs ?? 5 * 60_000);
    if (!changed && !reportDue) {
      this.counters.skipped++;
      return false;
    }
    const patch = nodeStatusPatch(old, status, labels);
    if (patch) {
      await this.opts.client.patch<Node>(`${path}/status`, patch, 'strategic', { signal });
      this.counters.patches++;
    } else {
      this.counters.skipped++;
    }
    this.lastReport = now;
    this.record(events);
    return patch !== undefined;
  }

  private record(events: NodeStatusEvent[]): void {
    const ref = nodeRef(this.opts.config.nodeName);
    for (const e of events) this.recorder.event(ref, e.type, e.reason, e.message);
  }

  private waitOrWake(ms: number, signal: AbortSignal): Promise<void> {
    if (this.wakePending || signal.aborted) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolveWait) => {
      let detach = () => {};
      const done = () => {
        clearTimeout(timer);
        detach();
        this.wake = undefined;
        this.wakePending = false;
        resolveWait();
      };
      const timer = setTimeout(done, ms);
      detach = onAbort(signal, done);
      this.wake = done;
    });
  }
}
