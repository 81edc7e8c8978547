/**
 * Node-level reclaim before evicting pods for disk pressure (upstream eviction manager's
 * signalToNodeReclaimFuncs: containerGC.DeleteAllUnusedContainers, then
 * imageGC.DeleteUnusedImages).
 *
 * Containers: every exited container of a pod whose runtime may be removed (terminated or
 * unknown) goes; pods still running keep their newest exited instance per container (upstream
 * MaxPerPodContainer 1); not-ready sandboxes without containers go unless they are a running
 * pod's newest. Images: every image no container uses, that is not pinned (or the runtime's
 * sandbox image), and that the kubelet has known for at least imageMinimumGCAge.
 */
import type { CriClient } from '../cri/client.js';
import { type Logger, silentLogger } from '../util/log.js';

export type GcCri = Pick<
  CriClient,
  'listContainers' | 'removeContainer' | 'listPodSandbox' | 'removePodSandbox' | 'listImages' | 'removeImage'
>;

export interface NodeReclaimerOptions {
  cri: GcCri;
  /** True for pods the kubelet still runs (their newest dead containers are kept). */
  podIsActive: (uid: string) => boolean;
  /** Images never removed (the runtime's sandbox image); resolved lazily. */
  protectedImages?: () => Promise<readonly string[]>;
  /** imageMinimumGCAge; default 2 min. */
  imageMinimumGCAgeMs?: number;
  now?: () => number;
  logger?: Logger;
}

const POD_UID = 'io.kubernetes.pod.uid';
const CONTAINER_NAME = 'io.kubernetes.container.name';
const nanos = (v: unknown) => BigInt(String(v ?? 0));

export class NodeReclaimer {
  private readonly firstDetected = new Map<string, number>();
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly o: NodeReclaimerOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.logger ?? silentLogger;
  }

  /** Upstream DeleteAllUnusedContainers (+ dead sandboxes). Returns how many objects it removed. */
  async deleteAllUnusedContainers(signal?: AbortSignal): Promise<number> {
    const containers = await this.o.cri.listContainers(undefined, { signal });
    const units = new Map<string, typeof containers>();
    for (const c of containers) {
      if (c.state !== 'CONTAINER_EXITED') continue;
      const key = `${c.labels[POD_UID] ?? ''}/${c.labels[CONTAINER_NAME] ?? c.metadata?.name ?? ''}`;
      units.set(key, [...(units.get(key) ?? []), c]);
    }
    let removed = 0;
    for (const [key, unit] of units) {
      const uid = key.slice(0, key.indexOf('/'));
      const newestFirst = [...unit].sort((a, b) => (nanos(b.createdAt) > nanos(a.createdAt) ? 1 : -1));
      const victims = this.o.podIsActive(uid) ? newestFirst.slice(1) : newestFirst;
      for (const c of victims) {
        await this.o.cri.removeContainer(c.id, { signal }).then(
          () => removed++,
          (err) => this.log.debug({ id: c.id, err: String(err) }, 'container GC: remove failed'),
        );
      }
    }
    const left = new Set((await this.o.cri.listContainers(undefined, { signal })).map((c) => c.podSandboxId));
    const sandboxes = await this.o.cri.listPodSandbox(undefined, { signal });
    const newest = new Map<string, string>();
    for (const s of [...sandboxes].sort((a, b) => (nanos(a.createdAt) > nanos(b.createdAt) ? 1 : -1))) {
      newest.set(s.metadata?.uid ?? '', s.id);
    }
    for (const s of sandboxes) {
      if (s.state === 'SANDBOX_READY' || left.has(s.id)) continue;
      const uid = s.metadata?.uid ?? '';
      if (this.o.podIsActive(uid) && newest.get(uid) === s.id) continue;
      await this.o.cri.removePodSandbox(s.id, { signal }).then(
        () => removed++,
        (err) => this.log.debug({ id: s.id, err: String(err) }, 'sandbox GC: remove failed'),
      );
    }
    return removed;
  }

  /** Upstream DeleteUnusedImages. Returns the bytes it freed. */
  async deleteUnusedImages(signal?: AbortSignal): Promise<number> {
    const now = this.now();
    const [images, containers, keep] = await Promise.all([
      this.o.cri.listImages(undefined, { signal }),
      this.o.cri.listContainers(undefined, { signal }),
      this.o.protectedImages?.().catch(() => [] as readonly string[]) ??
        Promise.resolve([] as readonly string[]),
    ]);
    const used = new Set<string>();
    for (const c of containers) {
      if (c.imageRef) used.add(c.imageRef);
      if (c.image?.image) used.add(c.image.image);
    }
    const protectedSet = new Set(keep);
    for (const id of this.firstDetected.keys())
      if (!images.some((i) => i.id === id)) this.firstDetected.delete(id);
    let freed = 0;
    for (const img of images) {
      if (!this.firstDetected.has(img.id)) this.firstDetected.set(img.id, now);
      const names = [img.id, ...img.repoTags, ...img.repoDigests];
      if (img.pinned || names.some((n) => used.has(n) || protectedSet.has(n))) continue;
      if (now - (this.firstDetected.get(img.id) ?? now) < (this.o.imageMinimumGCAgeMs ?? 120_000)) continue;
      try {
        await this.o.cri.removeImage(img.id, { signal });
        freed += Number(img.size);
        this.firstDetected.delete(img.id);
      } catch (err) {
        this.log.debug({ image: img.id, err: String(err) }, 'image GC: remove failed');
      }
    }
    return freed;
  }

  /** Remembers the images present now (upstream detectImages), so their age counts from here. */
  async detectImages(signal?: AbortSignal): Promise<void> {
    const now = this.now();
    for (const img of await this.o.cri.listImages(undefined, { signal })) {
      if (!this.firstDetected.has(img.id)) this.firstDetected.set(img.id, now);
    }
  }
}

/** The runtime's sandbox image from CRI Status(verbose) (containerd: info.config → sandboxImage). */
export async function runtimeSandboxImage(cri: Pick<CriClient, 'status'>): Promise<string[]> {
  const res = await cri.status(true, { timeoutMs: 5_000 });
  const config = (res as { info?: Record<string, string> }).info?.config;
  if (!config) return [];
  try {
    const image = (JSON.parse(config) as { sandboxImage?: string }).sandboxImage;
    return image ? [image] : [];
  } catch {
    return [];
  }
}
