import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { FilesystemUsage } from '../gen/runtime/v1/FilesystemUsage.js';
import type { Image } from '../gen/runtime/v1/Image.js';
import { nowNs } from './clock.js';
import { RpcError, unknown } from './errors.js';
import { abortableDelay } from './wait.js';

/** An image the mock knows, as given to `addImage`. */
export interface MockImageSpec {
  ref: string;
  /** The image config's User ("1000", "1000:1000" or a name). */
  user?: string;
  sizeBytes?: number;
  entrypoint?: readonly string[];
  cmd?: readonly string[];
}

/** What PullImage of one ref does: fail, never answer, or succeed after a delay. */
export type PullBehaviour =
  | { kind: 'fail'; message: string; code?: number }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number };

export interface ImageRecord {
  readonly id: string;
  readonly repoTags: string[];
  readonly size: number;
  readonly uid: number | null;
  readonly username: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
}

/** The images of the repo's local test environment (hack/images.sh), as containerd has them. */
export const LOCAL_TEST_IMAGES: readonly MockImageSpec[] = [
  {
    ref: 'localhost:5999/kubelet-ts/pause:3.10',
    sizeBytes: 2_140_995,
    entrypoint: ['/bin/sleep'],
    cmd: ['infinity'],
  },
  { ref: 'localhost:5999/kubelet-ts/busybox:1.36', sizeBytes: 2_140_961, cmd: ['sh'] },
  { ref: 'localhost:5999/kubelet-ts/busybox-nonroot:1.36', sizeBytes: 2_141_001, cmd: ['sh'], user: '1000' },
];

export const IMAGE_FS_MOUNTPOINT = '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs';

/**
 * containerd's reference normalization: `busybox` is `docker.io/library/busybox:latest`; a first
 * component with a dot, a colon or `localhost` is a registry host; no tag or digest means :latest.
 */
export function normalizeRef(ref: string): string {
  if (/^sha256:[0-9a-f]+$/.test(ref)) return ref;
  const at = ref.indexOf('@');
  const namePart = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at) : '';
  const slash = namePart.indexOf('/');
  const first = slash >= 0 ? namePart.slice(0, slash) : '';
  let name = namePart;
  if (!(first.includes('.') || first.includes(':') || first === 'localhost')) {
    name = `docker.io/${slash >= 0 ? namePart : `library/${namePart}`}`;
  }
  const hasTag = name.lastIndexOf(':') > name.lastIndexOf('/');
  return digest ? `${name}${digest}` : hasTag ? name : `${name}:latest`;
}

function parseUser(user: string | undefined): { uid: number | null; username: string } {
  if (!user) return { uid: null, username: '' };
  const head = user.split(':')[0] ?? '';
  return /^\d+$/.test(head) ? { uid: Number(head), username: '' } : { uid: null, username: head };
}

/** The mock's image store: ListImages/ImageStatus/PullImage/RemoveImage/ImageFsInfo. */
export class ImageStore {
  private readonly images = new Map<string, ImageRecord>();
  private readonly behaviours = new Map<string, PullBehaviour>();

  add(spec: MockImageSpec): ImageRecord {
    const ref = normalizeRef(spec.ref);
    const existing = this.find(ref);
    if (existing) this.images.delete(existing.id);
    const { uid, username } = parseUser(spec.user);
    const record: ImageRecord = {
      id: `sha256:${createHash('sha256').update(ref).digest('hex')}`,
      repoTags: [ref],
      size: spec.sizeBytes ?? 2_000_000,
      uid,
      username,
      entrypoint: spec.entrypoint ?? [],
      cmd: spec.cmd ?? [],
    };
    this.images.set(record.id, record);
    return record;
  }

  /** By tag (normalized), by id, or by a unique prefix of the id's hex (as containerd resolves). */
  find(refOrId: string): ImageRecord | undefined {
    if (!refOrId) return undefined;
    const byId = this.images.get(refOrId) ?? this.images.get(`sha256:${refOrId}`);
    if (byId) return byId;
    const ref = normalizeRef(refOrId);
    for (const img of this.images.values()) if (img.repoTags.includes(ref)) return img;
    if (/^[0-9a-f]{6,}$/.test(refOrId)) {
      const matches = [...this.images.values()].filter((i) => i.id.startsWith(`sha256:${refOrId}`));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  list(): ImageRecord[] {
    return [...this.images.values()];
  }

  /** Removing an image that is not there succeeds, as in containerd. */
  remove(refOrId: string): void {
    const img = this.find(refOrId);
    if (img) this.images.delete(img.id);
  }

  setPullBehaviour(ref: string, behaviour: PullBehaviour | null): void {
    if (behaviour) this.behaviours.set(normalizeRef(ref), behaviour);
    else this.behaviours.delete(normalizeRef(ref));
  }

  /** PullImage: applies the ref's behaviour; otherwise a known image is a hit, others not found. */
  async pull(ref: string, signal: AbortSignal): Promise<ImageRecord> {
    const name = normalizeRef(ref);
    const behaviour = this.behaviours.get(name);
    if (behaviour?.kind === 'fail') throw new RpcError(behaviour.code ?? status.UNKNOWN, behaviour.message);
    if (behaviour?.kind === 'hang') await abortableDelay(Number.POSITIVE_INFINITY, signal);
    if (behaviour?.kind === 'delay') {
      await abortableDelay(behaviour.ms, signal);
      return this.find(name) ?? this.add({ ref: name });
    }
    const found = this.find(name);
    if (found) return found;
    // containerd 1.6 answers a pull of a missing image with UNKNOWN and the resolver's text.
    throw unknown(
      `failed to pull and unpack image "${name}": failed to resolve reference "${name}": ${name}: not found`,
    );
  }

  toCri(img: ImageRecord): Image {
    return {
      id: img.id,
      repoTags: img.repoTags,
      repoDigests: [],
      size: String(img.size),
      uid: img.uid === null ? null : { value: String(img.uid) },
      username: img.username,
      spec: null,
      pinned: false,
    };
  }

  fsUsage(): FilesystemUsage {
    let used = 0;
    for (const img of this.images.values()) used += img.size;
    return {
      timestamp: String(nowNs()),
      fsId: { mountpoint: IMAGE_FS_MOUNTPOINT },
      usedBytes: { value: String(used) },
      inodesUsed: { value: String(this.images.size * 100) },
    };
  }
}
