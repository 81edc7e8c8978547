/** The Kubernetes API side of the benchmarks: namespaces, bench pods, a pod watch, clean-up. */
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from '../../src/api/errors.js';
import { RestClient } from '../../src/api/rest.js';
import type { ObjectList, Pod, WatchEvent } from '../../src/api/types.js';
import { adminKubeconfigPath } from './hack.js';

export async function adminRest(): Promise<RestClient> {
  const kc = new KubeConfig();
  kc.loadFromFile(adminKubeconfigPath);
  // No client-side rate limit: the benchmark must not throttle its own creates.
  return RestClient.fromKubeConfig(kc, { userAgent: 'kubelet-ts-bench', qps: 1e9, burst: 1e9 });
}

export const podsPath = (ns: string, name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;

const notFound = (err: unknown) => err instanceof ApiError && err.code === 404;

/** Polls `fn` until it returns a value other than undefined, or throws `what` after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr ? `: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Creates namespace `name` and waits for what its pods need: the default SA and kube-root-ca.crt. */
export async function createNamespace(rest: RestClient, name: string): Promise<void> {
  await rest.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await pollUntil(
    `ServiceAccount ${name}/default and ConfigMap ${name}/kube-root-ca.crt (is kube-controller-manager running?)`,
    async () => {
      await rest.get(`/api/v1/namespaces/${name}/serviceaccounts/default`);
      await rest.get(`/api/v1/namespaces/${name}/configmaps/kube-root-ca.crt`);
      return true;
    },
    60_000,
  );
}

export interface BenchPodOptions {
  name: string;
  nodeName: string;
  image: string;
  labels: Record<string, string>;
  /** false: no projected service-account token volume (the admission plugin adds none). */
  automountServiceAccountToken: boolean;
}

/** A pod bound to `nodeName` (no scheduler): one busybox container sleeping for an hour. */
export function benchPod(o: BenchPodOptions): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, labels: o.labels },
    spec: {
      nodeName: o.nodeName,
      terminationGracePeriodSeconds: 1,
      ...(o.automountServiceAccountToken ? {} : { automountServiceAccountToken: false }),
      containers: [
        { name: 'c', image: o.image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
      ],
    },
  };
}

export const podRunning = (p: Pod) => p.status?.phase === 'Running';
export const podReady = (p: Pod) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** When the watch first saw a pod Running and Ready (performance.now() ms). */
export interface PodSeen {
  /** First status written by the kubelet (one with containerStatuses). */
  firstStatusAt?: number;
  runningAt?: number;
  readyAt?: number;
  last?: Pod;
}

/**
 * A list+watch of the pods of one namespace that records, per pod name, when each pod was
 * first seen with a kubelet-written status, with phase Running and with condition Ready=True
 * (at the moment the event arrived). Restarts the watch when the server ends it, relisting on 410 Gone.
 */
export class PodWatcher {
  private readonly seen = new Map<string, PodSeen>();
  private readonly present = new Map<string, Pod>();
  private readonly listeners = new Set<() => void>();
  private readonly ac = new AbortController();
  private loop: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly rest: RestClient,
    private readonly namespace: string,
  ) {}

  /** Lists, then watches in the background; resolves once the watch is established. */
  async start(): Promise<void> {
    let rv = await this.relist();
    this.loop = (async () => {
      let failures = 0;
      while (!this.ac.signal.aborted) {
        try {
          await this.rest.watch<Pod>(
            podsPath(this.namespace),
            { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 1800 },
            (ev) => {
              const v = ev.object.metadata?.resourceVersion;
              if (v) rv = v;
              this.onEvent(ev);
            },
            { signal: this.ac.signal, idleTimeoutMs: 120_000 },
          );
          failures = 0;
        } catch (err) {
          if (this.ac.signal.aborted) return;
          if (err instanceof ApiError && err.code === 410) {
            rv = await this.relist();
            continue;
          }
          failures += 1;
          if (failures > 5) {
            this.failure = new Error(
              `pod watch of ${this.namespace} keeps failing: ${(err as Error).message}`,
            );
            this.notify();
            return;
          }
          await new Promise((r) => setTimeout(r, 200 * failures));
          rv = await this.relist().catch(() => rv);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.loop?.catch(() => {});
  }

  /** What the watch recorded for pod `name`. */
  get(name: string): PodSeen | undefined {
    return this.seen.get(name);
  }

  /** Pod `name` exists now (it was added and not yet deleted). */
  has(name: string): boolean {
    return this.present.has(name);
  }

  /** Pods of the namespace that exist now (by name). */
  get pods(): readonly Pod[] {
    return [...this.present.values()];
  }

  /**
   * Resolves when `pred()` holds (checked after every event and every 250 ms); rejects when it
   * throws, when the watch failed for good, when `signal` aborts, or after `timeoutMs`.
   */
  until(what: string, pred: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        try {
          if (this.failure) throw this.failure;
          if (signal?.aborted) throw new Error(`interrupted while waiting for ${what}`);
          if (!pred()) return;
        } catch (err) {
          done();
          reject(err);
          return;
        }
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const tick = setInterval(check, 250);
      const done = () => {
        clearTimeout(timer);
        clearInterval(tick);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private async relist(): Promise<string> {
    const list = await this.rest.get<ObjectList<Pod>>(podsPath(this.namespace));
    this.present.clear();
    for (const p of list.items) this.onEvent({ type: 'ADDED', object: p });
    return list.metadata.resourceVersion ?? '0';
  }

  private onEvent(ev: WatchEvent<Pod>): void {
    if (ev.type === 'BOOKMARK') return;
    const now = performance.now();
    const pod = ev.object;
    const name = pod.metadata?.name ?? '';
    if (ev.type === 'DELETED') {
      this.present.delete(name);
    } else {
      this.present.set(name, pod);
      let s = this.seen.get(name);
      if (!s) {
        s = {};
        this.seen.set(name, s);
      }
      s.last = pod;
      if (s.firstStatusAt === undefined && (pod.status?.containerStatuses?.length ?? 0) > 0)
        s.firstStatusAt = now;
      if (s.runningAt === undefined && podRunning(pod)) s.runningAt = now;
      if (s.readyAt === undefined && podReady(pod)) s.readyAt = now;
    }
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** One line per distinct reason why pods are not Ready yet, e.g. `12× Pending/ContainerCreating`. */
export function describeNotReady(pods: readonly Pod[]): string {
  const counts = new Map<string, number>();
  for (const p of pods) {
    if (podReady(p)) continue;
    const cs = p.status?.containerStatuses?.[0]?.state;
    const why = cs?.waiting?.reason ?? (cs?.terminated ? `terminated:${cs.terminated.reason}` : '');
    const key = `${p.status?.phase ?? 'no status'}${why ? `/${why}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join(', ') || 'all Ready';
}

/** DELETE of every pod in `ns` with `labelSelector` (gracefully, or with grace 0 when `force`). */
export async function deletePods(rest: RestClient, ns: string, labelSelector?: string, force = false) {
  await rest.delete(
    podsPath(ns),
    force ? { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 } : undefined,
    {
      query: { labelSelector },
    },
  );
}

/** Deletes a Node, its Lease and its events; missing objects are fine. */
export async function deleteNode(rest: RestClient, name: string): Promise<void> {
  const ignore404 = (err: unknown) => {
    if (!notFound(err)) throw err;
  };
  await rest.delete(`/api/v1/nodes/${name}`).catch(ignore404);
  await rest
    .delete(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`)
    .catch(ignore404);
  await rest
    .delete('/api/v1/namespaces/default/events', undefined, {
      query: { fieldSelector: `involvedObject.kind=Node,involvedObject.name=${name}` },
    })
    .catch(ignore404);
}

export async function deleteNamespace(rest: RestClient, name: string): Promise<void> {
  await rest.delete(`/api/v1/namespaces/${name}`).catch((err: unknown) => {
    if (!notFound(err)) throw err;
  });
}

/** The Ready condition of node `name` is True. */
export async function nodeReady(rest: RestClient, name: string): Promise<boolean> {
  const n = await rest.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
    `/api/v1/nodes/${name}`,
  );
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}
