import { isConflict, isNotFound } from '../api/errors.js';
import { type Lease, type Node, rfc3339Micro } from '../api/types.js';
import { sleep } from '../util/abort.js';
import { RetryDelay } from '../util/backoff.js';
import { type Logger, silentLogger } from '../util/log.js';
import { describeError, jittered, type NodeApiClient, nodePath } from './client.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLeaseOptions {
  client: NodeApiClient;
  nodeName: string;
  /** The Node's uid for the owner reference; when absent it is read from the Node, as upstream. */
  nodeUid?: string;
  /** nodeLeaseDurationSeconds: 40. */
  leaseDurationSeconds?: number;
  /** Default 0.25 × duration (10 s). */
  renewIntervalMs?: number;
  jitterFactor?: number;
  /** Update tries per renewal (conflicts re-read the Lease): 5. */
  maxUpdateRetries?: number;
  /** Backoff while the Lease cannot be read or created: 100 ms doubling to 7 s. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
  log?: Logger;
}

export interface NodeLeaseStats {
  gets: number;
  creates: number;
  updates: number;
  conflicts: number;
}

/**
 * The node Lease heartbeat (component-helpers lease controller): kube-node-lease/<node>, renewed
 * every renew interval by PUT of the last Lease we got back, so no GET is needed while nobody
 * else writes it; a conflict re-reads it.
 */
export class NodeLeaseController {
  private readonly log: Logger;
  private readonly now: () => number;
  private latestLease: Lease | undefined;
  private nodeUid: string | undefined;
  private readonly counters: NodeLeaseStats = { gets: 0, creates: 0, updates: 0, conflicts: 0 };

  constructor(private readonly opts: NodeLeaseOptions) {
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.nodeUid = opts.nodeUid;
  }

  get latest(): Lease | undefined {
    return this.latestLease;
  }

  get stats(): Readonly<NodeLeaseStats> {
    return { ...this.counters };
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases/${encodeURIComponent(this.opts.nodeName)}`;
  }

  private get durationSeconds(): number {
    return this.opts.leaseDurationSeconds ?? 40;
  }

  /** Renews until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    const interval = this.opts.renewIntervalMs ?? this.durationSeconds * 250;
    while (!signal.aborted) {
      try {
        await this.sync(signal);
      } catch (err) {
        if (!signal.aborted) this.log.error({ err: describeError(err) }, 'Failed to renew lease');
      }
      await sleep(jittered(interval, this.opts.jitterFactor ?? 0.04), signal).catch(() => {});
    }
  }

  /** One renewal: update from the last Lease, else make sure it exists and update that. */
  async sync(signal?: AbortSignal): Promise<void> {
    if (this.latestLease) {
      try {
        await this.retryUpdate(this.latestLease, signal);
        return;
      } catch (err) {
        if (signal?.aborted) throw err;
        this.log.info(
          { err: describeError(err) },
          'failed to update lease using latest lease, fallback to ensure lease',
        );
      }
    }
    const { lease, created } = await this.backoffEnsure(signal);
    this.latestLease = lease;
    // A Lease we just created carries a fresh renewTime already.
    if (!created && lease) await this.retryUpdate(lease, signal);
  }

  private async retryUpdate(base: Lease, signal?: AbortSignal): Promise<void> {
    const tries = this.opts.maxUpdateRetries ?? 5;
    let current: Lease | undefined = base;
    for (let i = 0; i < tries; i++) {
      if (current) {
        try {
          const next = await this.newLease(current, signal);
          this.latestLease = await this.opts.client.replace<Lease>(this.path, next, { signal });
          this.counters.updates++;
          return;
        } catch (err) {
          if (signal?.aborted) throw err;
          this.log.warn({ err: describeError(err) }, 'Failed to update lease');
          if (!isConflict(err)) continue;
          this.counters.conflicts++;
        }
      }
      current = (await this.backoffEnsure(signal)).lease;
    }
    throw new Error(`failed ${tries} attempts to update lease`);
  }

  private async backoffEnsure(signal?: AbortSignal): Promise<{ lease: Lease | undefined; created: boolean }> {
    const retry = new RetryDelay(this.opts.initialBackoffMs ?? 100, this.opts.maxBackoffMs ?? 7_000);
    for (;;) {
      try {
        return await this.ensure(signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        this.log.error(
          { err: describeError(err), retryInMs: retry.peek() },
          'Failed to ensure lease exists, will retry',
        );
      }
      await sleep(retry.next(), signal);
    }
  }

  private async ensure(signal?: AbortSignal): Promise<{ lease: Lease | undefined; created: boolean }> {
    try {
      const lease = await this.opts.client.get<Lease>(this.path, { signal });
      this.counters.gets++;
      return { lease, created: false };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const fresh = await this.newLease(undefined, signal);
    // Without the owner reference we do not create it yet (upstream); the next round tries again.
    if (!fresh.metadata?.ownerReferences?.length) return { lease: undefined, created: false };
    const lease = await this.opts.client.create<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases`,
      fresh,
      { signal },
    );
    this.counters.creates++;
    return { lease, created: true };
  }

  private async newLease(base: Lease | undefined, signal?: AbortSignal): Promise<Lease> {
    const lease: Lease = base
      ? structuredClone(base)
      : {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.opts.nodeName, namespace: NODE_LEASE_NAMESPACE },
          spec: { holderIdentity: this.opts.nodeName, leaseDurationSeconds: this.durationSeconds },
        };
    lease.spec = { ...(lease.spec ?? {}), renewTime: rfc3339Micro(this.now()) };
    lease.metadata ??= {};
    const meta = lease.metadata;
    if (!meta.ownerReferences?.length) {
      const uid = await this.ownerUid(signal);
      if (uid) meta.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName, uid }];
    }
    return lease;
  }

  private async ownerUid(signal?: AbortSignal): Promise<string | undefined> {
    if (this.nodeUid) return this.nodeUid;
    try {
      const node = await this.opts.client.get<Node>(nodePath(this.opts.nodeName), { signal });
      this.nodeUid = node.metadata?.uid;
    } catch (err) {
      this.log.warn(
        { err: describeError(err) },
        'Failed to get node when trying to set owner ref to the node lease',
      );
    }
    return this.nodeUid;
  }
}
