import { isNotFound } from '../api/errors.js';
import { isStaticPod } from '../api/pod.js';
import type { PatchType, RequestOptions } from '../api/rest.js';
import type { Pod, PodStatus } from '../api/types.js';
import { rfc3339 } from '../api/types.js';
import { type Logger, silentLogger } from '../util/log.js';
import { stampTransitionTimes } from './conditions.js';
import { terminatedStatus } from './generate.js';
import { canBeDeleted, checkContainerStateTransition, mergePodStatus } from './merge.js';
import { normalizeStatus } from './normalize.js';
import { isStatusByKubeletEqual, podStatusPatch } from './patch.js';
import { clone } from './podutil.js';

/** The part of RestClient the status manager uses. */
export interface StatusApi {
  get<T>(path: string, o?: RequestOptions): Promise<T>;
  patch<T>(path: string, body: unknown, type: PatchType, o?: RequestOptions): Promise<T>;
  delete<T>(path: string, body?: unknown, o?: RequestOptions): Promise<T>;
}

export interface StatusManagerOptions {
  client: StatusApi;
  log?: Logger;
  /** Period of the full reconcile (upstream syncPeriod, 10 s). */
  reconcileIntervalMs?: number;
  /** Pods waiting for an immediate sync; beyond this they wait for the next reconcile. */
  maxPending?: number;
  /** Epoch ms; transition and start times. */
  now?: () => number;
  /**
   * Upstream PodDeletionSafetyProvider.PodCouldHaveRunningContainers. A terminal phase is held
   * back while this is true. Default: true until terminatePod() was called for the pod.
   */
  couldHaveRunningContainers?: (uid: string) => boolean;
  requestTimeoutMs?: number;
  /** Pods whose status is written at the same time (default 8). */
  concurrency?: number;
  /**
   * The UID of a static pod's mirror pod, where its status is written (upstream
   * podManager.TranslatePodUID); undefined while it has none (the status waits).
   */
  mirrorUidOf?: (staticPod: Pod) => string | undefined;
}

export interface StatusManagerMetrics {
  /** PATCH requests sent. */
  patches: number;
  /** DELETE requests sent. */
  deletes: number;
  /** Pods synced (GET + merge + maybe PATCH). */
  syncs: number;
  errors: number;
}

interface Entry {
  uid: string;
  name: string;
  namespace: string;
  pod: Pod;
  status: PodStatus;
  /** Increases with every accepted status. */
  version: number;
  /** The version last written to (or found equal in) the apiserver. */
  sentVersion: number;
  /** Set by terminatePod: the pod worker is done with the pod (upstream podIsFinished). */
  finished: boolean;
  /** The newest API copy of the pod we have seen. */
  apiPod: Pod;
}

const podPath = (namespace: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;

function newerResourceVersion(a: Pod, b: Pod): boolean {
  const ra = Number(a.metadata?.resourceVersion);
  const rb = Number(b.metadata?.resourceVersion);
  return !Number.isFinite(ra) || !Number.isFinite(rb) || ra >= rb;
}

/**
 * The status manager (upstream pkg/kubelet/status): caches the newest status per pod UID with a
 * version, and one sync loop writes changed statuses to the apiserver as strategic merge patches
 * of pods/status, re-checks every pod every 10 s, and deletes pods whose graceful deletion the
 * kubelet has finished. Errors are logged and retried by the next reconcile; nothing throws
 * into callers.
 */
export class StatusManager {
  private readonly statuses = new Map<string, Entry>();
  private readonly pending = new Set<string>();
  private readonly client: StatusApi;
  private readonly log: Logger;
  private readonly interval: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private couldRun: (uid: string) => boolean;
  private readonly timeoutMs: number | undefined;
  private readonly concurrency: number;
  private readonly mirrorUidOf: ((staticPod: Pod) => string | undefined) | undefined;
  private wake: (() => void) | undefined;
  private readonly counters: StatusManagerMetrics = { patches: 0, deletes: 0, syncs: 0, errors: 0 };

  constructor(opts: StatusManagerOptions) {
    this.client = opts.client;
    this.log = opts.log ?? silentLogger;
    this.interval = opts.reconcileIntervalMs ?? 10_000;
    this.maxPending = opts.maxPending ?? 1000;
    this.now = opts.now ?? Date.now;
    this.couldRun = opts.couldHaveRunningContainers ?? ((uid) => !this.statuses.get(uid)?.finished);
    this.timeoutMs = opts.requestTimeoutMs;
    this.concurrency = opts.concurrency ?? 8;
    this.mirrorUidOf = opts.mirrorUidOf;
  }

  /** Writes a pod's status again soon, changed or not (a static pod got a new mirror pod). */
  requeue(uid: string): void {
    const e = this.statuses.get(uid);
    if (!e) return;
    e.sentVersion = 0;
    this.pending.add(uid);
    this.wake?.();
  }

  /**
   * Where the manager learns whether a pod's worker may still run containers (upstream
   * podDeletionSafety): a terminal phase is reported only once it cannot.
   */
  setCouldHaveRunningContainers(fn: (uid: string) => boolean): void {
    this.couldRun = fn;
  }

  get metrics(): Readonly<StatusManagerMetrics> {
    return { ...this.counters };
  }

  /** The cached status of a pod (a copy), if any. */
  getPodStatus(uid: string): PodStatus | undefined {
    const e = this.statuses.get(uid);
    return e ? clone(e.status) : undefined;
  }

  /**
   * Caches `status` for `pod` and queues a sync when its kubelet-owned content changed (always,
   * once the pod is being deleted). Returns whether a new version was stored.
   */
  setPodStatus(pod: Pod, status: PodStatus): boolean {
    const s = clone(status);
    const gen = pod.metadata?.generation;
    if (gen) s.observedGeneration = gen;
    return this.update(pod, s, pod.metadata?.deletionTimestamp !== undefined, false);
  }

  /**
   * The pod worker is done with the pod (upstream TerminatePod): containers without a terminated
   * state are marked ContainerStatusUnknown, the phase becomes terminal, and the pod may now be
   * deleted from the apiserver.
   */
  terminatePod(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const base = this.statuses.get(uid)?.status ?? pod.status ?? {};
    this.update(pod, terminatedStatus(pod, base), true, true);
  }

  /** Forgets every pod not in `knownUids`. */
  removeOrphanedStatuses(knownUids: Iterable<string>): void {
    const known = new Set(knownUids);
    for (const uid of this.statuses.keys()) {
      if (!known.has(uid)) {
        this.statuses.delete(uid);
        this.pending.delete(uid);
      }
    }
  }

  /** Runs the sync loop until `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let nextReconcile = this.now() + this.interval;
    while (!signal.aborted) {
      await this.waitForWork(Math.max(0, nextReconcile - this.now()), signal);
      if (signal.aborted) break;
      try {
        if (this.now() >= nextReconcile) {
          this.pending.clear();
          await this.syncBatch(signal);
          nextReconcile = this.now() + this.interval;
        } else {
          await this.syncPending(signal);
        }
      } catch (err) {
        this.counters.errors++;
        this.log.error({ err }, 'status sync loop iteration failed');
      }
    }
  }

  /** Syncs queued pods now (what the loop does on a wake-up). */
  async syncPending(signal?: AbortSignal): Promise<void> {
    const uids = [...this.pending];
    this.pending.clear();
    // Different pods are independent: write up to `concurrency` of them at once (one pod is
    // never written twice at the same time — each uid appears once in this batch).
    let next = 0;
    const worker = async () => {
      while (next < uids.length && !signal?.aborted) {
        const e = this.statuses.get(uids[next++]!);
        if (e && e.sentVersion < e.version) await this.syncPod(e, signal, true);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, uids.length) }, worker));
  }

  /** The periodic pass (upstream syncBatch(true)): new versions, deletable pods, drifted statuses. */
  async syncBatch(signal?: AbortSignal): Promise<void> {
    for (const e of [...this.statuses.values()]) {
      if (signal?.aborted) return;
      if (e.sentVersion < e.version || canBeDeleted(e.apiPod, e.finished)) {
        await this.syncPod(e, signal);
      } else if (this.needsReconcile(e)) {
        e.sentVersion = 0;
        await this.syncPod(e, signal);
      }
    }
  }

  private needsReconcile(e: Entry): boolean {
    const api = normalizeStatus(e.pod, clone(e.apiPod.status ?? {}));
    return !isStatusByKubeletEqual(api, e.status);
  }

  private update(pod: Pod, status: PodStatus, force: boolean, finished: boolean): boolean {
    const uid = pod.metadata?.uid;
    const name = pod.metadata?.name;
    const namespace = pod.metadata?.namespace ?? 'default';
    if (!uid || !name) return false;
    const cached = this.statuses.get(uid);
    const old = cached?.status ?? pod.status ?? {};
    const isFinished = finished || (cached?.finished === true && !isStaticPod(pod));
    const illegal = checkContainerStateTransition(old, status, pod.spec ?? { containers: [] });
    if (illegal) {
      this.log.error(
        { pod: `${namespace}/${name}`, podUID: uid },
        `status update on pod aborted: ${illegal}`,
      );
      return false;
    }
    const now = rfc3339(this.now());
    stampTransitionTimes(status, old, now);
    status.startTime = old.startTime || status.startTime || now;
    normalizeStatus(pod, status);

    const apiPod = cached && !newerResourceVersion(pod, cached.apiPod) ? cached.apiPod : pod;
    if (cached && !force && isStatusByKubeletEqual(cached.status, status)) {
      cached.pod = pod;
      cached.apiPod = apiPod;
      return false;
    }
    this.statuses.set(uid, {
      uid,
      name,
      namespace,
      pod,
      status,
      version: (cached?.version ?? 0) + 1,
      sentVersion: cached?.sentVersion ?? 0,
      finished: isFinished,
      apiPod,
    });
    if (this.pending.size < this.maxPending || this.pending.has(uid)) this.pending.add(uid);
    this.wake?.();
    return true;
  }

  private waitForWork(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending.size > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  private requestOptions(signal?: AbortSignal): RequestOptions {
    return { ...(signal ? { signal } : {}), ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}) };
  }

  /** Upstream syncPod: GET, merge, PATCH when something changed, DELETE when the pod is done. */
  /**
   * Writes one pod's status. `fromCache`: on the immediate path the newest API copy we hold (from
   * the pod watch or our own last PATCH response) is the base of the patch instead of a fresh GET,
   * halving the requests of a burst of pod starts (the client's QPS budget is what a burst runs
   * out of). The UID precondition in the patch still refuses a recreated pod, and the periodic
   * reconcile always GETs, as upstream does on every sync.
   */
  private async syncPod(snapshot: Entry, signal?: AbortSignal, fromCache = false): Promise<void> {
    const { uid, name, namespace, version, status, finished } = snapshot;
    const ref = { pod: `${namespace}/${name}`, podUID: uid };
    const path = podPath(namespace, name);
    const o = this.requestOptions(signal);
    // A static pod's status goes to its mirror pod (the API knows only that UID).
    const isStatic = isStaticPod(snapshot.pod);
    const targetUid = isStatic ? this.mirrorUidOf?.(snapshot.pod) : uid;
    if (!targetUid) {
      this.log.debug(ref, 'Static pod does not have a corresponding mirror pod; skipping');
      return;
    }
    this.counters.syncs++;
    let pod: Pod;
    try {
      pod =
        !isStatic && fromCache && snapshot.apiPod.metadata?.resourceVersion
          ? snapshot.apiPod
          : await this.client.get<Pod>(path, o);
    } catch (err) {
      if (signal?.aborted) return;
      if (isNotFound(err)) {
        this.log.debug(ref, 'pod does not exist on the server');
      } else {
        this.counters.errors++;
        this.log.warn({ ...ref, err }, 'failed to get status for pod');
      }
      return;
    }
    if (pod.metadata?.uid !== targetUid) {
      if (isStatic) return; // the mirror pod is being recreated: the next pass writes it
      this.log.info(ref, 'pod was deleted and then recreated, skipping status update');
      this.statuses.delete(uid);
      return;
    }
    const apiStatus = pod.status ?? {};
    const merged = mergePodStatus(pod, apiStatus, status, this.couldRun(uid), rfc3339(this.now()));
    const { patch, unchanged } = podStatusPatch(targetUid, apiStatus, merged);
    if (!unchanged) {
      try {
        this.counters.patches++;
        pod = await this.client.patch<Pod>(`${path}/status`, patch, 'strategic', o);
        this.log.debug({ ...ref, version }, 'status for pod updated');
      } catch (err) {
        if (signal?.aborted) return;
        this.counters.errors++;
        this.log.warn({ ...ref, err }, 'failed to update status for pod');
        return;
      }
    }
    const current = this.statuses.get(uid);
    if (current) {
      current.sentVersion = Math.max(current.sentVersion, version);
      if (!isStatic && newerResourceVersion(pod, current.apiPod)) current.apiPod = pod;
    }
    if (isStatic) return; // mirror pods are deleted by their static pod's lifecycle, not here
    if (!canBeDeleted(pod, finished)) return;
    try {
      this.counters.deletes++;
      await this.client.delete(
        path,
        { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid } },
        o,
      );
      this.log.info(ref, 'pod fully terminated and removed from the apiserver');
      this.statuses.delete(uid);
      this.pending.delete(uid);
    } catch (err) {
      if (isNotFound(err)) {
        this.statuses.delete(uid);
        return;
      }
      this.counters.errors++;
      this.log.warn({ ...ref, err }, 'failed to delete pod');
    }
  }
}
