import type { CriClient } from '../cri/client.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';

export interface ImageGCOptions {
  cri: Pick<CriClient, 'listContainers' | 'listImages' | 'removeImage'>;
  /** Images never removed (the runtime's sandbox image); resolved lazily. */
  protectedImages?: () => Promise<readonly string[]>;
  /** imageMinimumGCAge; default 2 min. */
  imageMinimumGCAgeMs?: number;
  now?: () => number;
  logger?: Logger;
}

/**
 * Image garbage collection (upstream images.realImageGCManager): every image no container uses,
 * that is not pinned (or the runtime's sandbox image), and that the kubelet has known for at
 * least imageMinimumGCAge. Eviction's disk-pressure reclaim calls it.
 */
export class ImageGC {
  private readonly firstDetected = new Map<string, number>();
  private readonly o: ImageGCOptions;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(o: ImageGCOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.log = o.logger ?? silentLogger;
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
        this.log.debug({ image: img.id, err: errorMessage(err) }, 'image GC: remove failed');
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
