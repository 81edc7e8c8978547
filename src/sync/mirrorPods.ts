/**
 * Mirror pods (upstream pkg/kubelet/pod/mirror_client.go and Kubelet.tryReconcileMirrorPods /
 * deleteOrphanedMirrorPods): the API copy of each static pod, so that the cluster sees it.
 * Created with annotation kubernetes.io/config.mirror = the static pod's config.hash and a
 * controller ownerReference to the Node; deleted (grace 0, UID precondition) and recreated when
 * it no longer matches or is being deleted; deleted when its static pod is gone and its worker
 * finished. NodeRestriction admits exactly these requests from a node. API failures are logged
 * and retried by the next sync or housekeeping pass: a static pod never waits for the API.
 */
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import type { RequestOptions } from '../api/rest.js';
import type { Node, Pod } from '../api/types.js';
import { type Logger, silentLogger } from '../util/log.js';
import { podFullName } from './podConfig.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION } from './staticPodManifest.js';

/** The part of RestClient mirror pods need. */
export interface MirrorPodApi {
  get<T>(path: string, o?: RequestOptions): Promise<T>;
  create<T>(path: string, body: unknown, o?: RequestOptions): Promise<T>;
  delete<T>(path: string, body?: unknown, o?: RequestOptions): Promise<T>;
}

export type MirrorAction = 'none' | 'create' | 'recreate';

/** upstream kubepod.IsMirrorPodOf: same name and namespace, and the hash of this static pod. */
export function isMirrorPodOf(mirror: Pod, staticPod: Pod): boolean {
  if (mirror.metadata?.name !== staticPod.metadata?.name) return false;
  if (mirror.metadata?.namespace !== staticPod.metadata?.namespace) return false;
  const hash = mirror.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION];
  return hash !== undefined && hash === staticPod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
}

/** PURE: what tryReconcileMirrorPods does for a static pod and its current mirror pod. */
export function mirrorAction(staticPod: Pod, mirror: Pod | undefined): MirrorAction {
  if (!mirror) return 'create';
  if (mirror.metadata?.deletionTimestamp || !isMirrorPodOf(mirror, staticPod)) return 'recreate';
  return 'none';
}

/** PURE: the mirror pod the kubelet POSTs for a static pod (upstream CreateMirrorPod). */
export function buildMirrorPod(staticPod: Pod, node: { name: string; uid: string }): Pod {
  const hash = staticPod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] ?? staticPod.metadata?.uid ?? '';
  return {
    ...staticPod,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...staticPod.metadata,
      annotations: { ...staticPod.metadata?.annotations, [CONFIG_MIRROR_ANNOTATION]: hash },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
  };
}

export interface MirrorPodsOptions {
  api: MirrorPodApi;
  nodeName: string;
  /** The current mirror pod of a full name (podConfig.mirrorPod). */
  mirrorOf: (fullName: string) => Pod | undefined;
  logger?: Logger;
  /** Minimum time between two attempts for one static pod (default 1 s). */
  retryMs?: number;
  now?: () => number;
}

const podsPath = (ns: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;

/** Creates, recreates and deletes mirror pods; one request chain per full name at a time. */
export class MirrorPods {
  private readonly inFlight = new Set<string>();
  private readonly lastTry = new Map<string, number>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly o: MirrorPodsOptions) {
    this.log = (o.logger ?? silentLogger).child({ component: 'mirror-pods' });
    this.now = o.now ?? Date.now;
  }

  /** Starts reconciling a static pod's mirror in the background, unless it matches already. */
  reconcile(staticPod: Pod, force = false): void {
    const name = podFullName(staticPod);
    const action = mirrorAction(staticPod, this.o.mirrorOf(name));
    if (action === 'none' || this.inFlight.has(name)) return;
    const last = this.lastTry.get(name) ?? 0;
    if (!force && this.now() - last < (this.o.retryMs ?? 1_000)) return;
    this.lastTry.set(name, this.now());
    this.inFlight.add(name);
    void this.apply(staticPod, action)
      .catch((err) =>
        this.log.warn({ pod: name, err: (err as Error).message }, 'Failed reconciling mirror pod'),
      )
      .finally(() => this.inFlight.delete(name));
  }

  /** Deletes the mirror pods whose static pod is gone (upstream deleteOrphanedMirrorPods). */
  deleteOrphans(staticFullNames: ReadonlySet<string>, mirrors: readonly Pod[]): void {
    for (const m of mirrors) {
      const name = podFullName(m);
      if (staticFullNames.has(name) || this.inFlight.has(name)) continue;
      this.inFlight.add(name);
      void this.deleteMirror(m, undefined)
        .catch((err) =>
          this.log.warn({ pod: name, err: (err as Error).message }, 'Failed deleting mirror pod'),
        )
        .finally(() => this.inFlight.delete(name));
    }
  }

  forget(fullName: string): void {
    this.lastTry.delete(fullName);
  }

  private async apply(staticPod: Pod, action: MirrorAction): Promise<void> {
    const name = podFullName(staticPod);
    if (action === 'recreate') {
      const mirror = this.o.mirrorOf(name);
      if (mirror) {
        this.log.info({ pod: name, podUID: mirror.metadata?.uid }, 'Trying to delete pod');
        const deleted = await this.deleteMirror(mirror, mirror.metadata?.uid);
        if (!deleted) return;
        this.log.info({ pod: name }, "Deleted mirror pod as it didn't match the static Pod");
      }
    }
    const node = await this.node();
    if (!node) return;
    this.log.debug({ pod: name }, 'Creating a mirror pod for static pod');
    const ns = staticPod.metadata?.namespace ?? 'default';
    const body = buildMirrorPod(staticPod, { name: this.o.nodeName, uid: node.metadata?.uid ?? '' });
    try {
      await this.o.api.create<Pod>(podsPath(ns), body, { timeoutMs: 10_000 });
      this.log.info({ pod: name }, 'Created mirror pod');
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Upstream: an existing pod with the same hash is fine; otherwise the next sync recreates it.
    }
  }

  /** The Node, unless it is missing or being deleted (then no mirror pod is created). */
  private async node(): Promise<Node | undefined> {
    try {
      const node = await this.o.api.get<Node>(`/api/v1/nodes/${encodeURIComponent(this.o.nodeName)}`, {
        timeoutMs: 10_000,
      });
      if (node.metadata?.deletionTimestamp) {
        this.log.debug('No need to create a mirror pod, since node has been removed from the cluster');
        return undefined;
      }
      return node;
    } catch (err) {
      this.log.debug(
        { err: (err as Error).message },
        'No need to create a mirror pod, since failed to get node info from the cluster',
      );
      return undefined;
    }
  }

  /** upstream DeleteMirrorPod: grace 0, optional UID precondition; true if it deleted something. */
  private async deleteMirror(mirror: Pod, uid: string | undefined): Promise<boolean> {
    const ns = mirror.metadata?.namespace ?? 'default';
    const name = mirror.metadata?.name ?? '';
    this.log.debug({ pod: `${ns}/${name}`, podUID: uid }, 'Deleting a mirror pod');
    try {
      await this.o.api.delete(
        `${podsPath(ns)}/${encodeURIComponent(name)}`,
        {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          gracePeriodSeconds: 0,
          ...(uid ? { preconditions: { uid } } : {}),
        },
        { timeoutMs: 10_000 },
      );
      return true;
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return false;
      throw err;
    }
  }
}
