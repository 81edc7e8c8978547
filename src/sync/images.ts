import { containerRef } from '../api/pod.js';
import type { Container, Pod } from '../api/types.js';
import type { CriClient } from '../cri/client.js';
import type { PodSandboxConfig } from '../cri/types.js';
import { Backoff } from '../util/backoff.js';
import { errorMessage } from '../util/errors.js';
import { Semaphore } from '../util/semaphore.js';
import { BackoffError, SyncError } from './errors.js';
import type { EventSink } from './events.js';

export interface EnsuredImage {
  /** The runtime's image ID, used as the container's image. */
  imageRef: string;
  uid: number | undefined;
  username: string;
}

/** Appends ':latest' when a reference has neither tag nor digest (upstream applyDefaultImageTag). */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSlash = image.lastIndexOf('/');
  return image.slice(lastSlash + 1).includes(':') ? image : `${image}:latest`;
}

/** API defaulting of imagePullPolicy: Always for :latest or no tag, else IfNotPresent. */
export function pullPolicyOf(c: Container): 'Always' | 'IfNotPresent' | 'Never' {
  if (
    c.imagePullPolicy === 'Always' ||
    c.imagePullPolicy === 'IfNotPresent' ||
    c.imagePullPolicy === 'Never'
  ) {
    return c.imagePullPolicy;
  }
  const img = c.image ?? '';
  if (img.includes('@')) return 'IfNotPresent';
  return withDefaultTag(img).endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

// The distribution reference grammar (github.com/distribution/reference): an optional domain
// (mixed case allowed), lowercase path components, an optional tag and digest.
const DOMAIN =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?';
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/** PURE: why `raw` is not an image reference (upstream reference.Parse's error), or undefined. */
export function imageRefError(raw: string): string | undefined {
  if (REFERENCE.test(raw)) return undefined;
  if (raw !== '' && REFERENCE.test(raw.toLowerCase())) return 'repository name must be lowercase';
  return 'invalid reference format';
}

/**
 * Upstream's image manager: pull policy, ErrImagePull / ImagePullBackOff with a 10 s → 5 min
 * backoff per (pod, image), serialized pulls by default, and the same events and messages.
 */
export class ImageManager {
  private readonly backoff = new Backoff(10_000, 300_000);
  private readonly lastError = new Map<string, string>();
  private readonly pulls: Semaphore;

  constructor(
    private readonly cri: CriClient,
    private readonly events: EventSink,
    opts: { maxParallelPulls?: number; now?: () => number } = {},
  ) {
    this.pulls = new Semaphore(opts.maxParallelPulls ?? 1);
    this.now = opts.now ?? Date.now;
  }
  private readonly now: () => number;

  async ensureImage(
    pod: Pod,
    c: Container,
    sandbox: PodSandboxConfig,
    signal?: AbortSignal,
  ): Promise<EnsuredImage> {
    const ref = containerRef(pod, c.name);
    const raw = c.image ?? '';
    const refError = imageRefError(raw);
    if (refError) {
      const msg = `Failed to apply default image tag "${raw}": couldn't parse image name "${raw}": ${refError}`;
      this.events.event(ref, 'Warning', 'InspectFailed', msg);
      throw new SyncError('InvalidImageName', msg);
    }
    const image = withDefaultTag(raw);
    const policy = pullPolicyOf(c);
    let present: Awaited<ReturnType<CriClient['imageStatus']>>;
    try {
      present = await this.cri.imageStatus(image, { signal });
    } catch (err) {
      const msg = `Failed to inspect image "${image}": ${errorMessage(err)}`;
      this.events.event(ref, 'Warning', 'InspectFailed', msg);
      throw new SyncError('ImageInspectError', msg);
    }
    if (present?.id && policy !== 'Always') {
      this.events.event(ref, 'Normal', 'Pulled', `Container image "${raw}" already present on machine`);
      return { imageRef: present.id, uid: uidOf(present.uid), username: present.username };
    }
    if (policy === 'Never') {
      const msg = `Container image "${raw}" is not present with pull policy of Never`;
      this.events.event(ref, 'Warning', 'ErrImageNeverPull', msg);
      throw new SyncError('ErrImageNeverPull', msg);
    }
    const key = `${pod.metadata?.uid}_${image}`;
    if (this.backoff.isInBackOffSinceUpdate(key, this.now())) {
      const msg = `Back-off pulling image "${raw}"`;
      this.events.event(ref, 'Normal', 'BackOff', msg);
      const prev = this.lastError.get(key);
      throw new BackoffError('ImagePullBackOff', prev ? `${msg}: ErrImagePull: ${prev}` : msg);
    }
    this.events.event(ref, 'Normal', 'Pulling', `Pulling image "${raw}"`);
    const queued = performance.now();
    try {
      const release = await this.pulls.acquire(signal);
      const started = performance.now();
      let imageRef: string;
      try {
        imageRef = await this.cri.pullImage({ image: { image }, sandboxConfig: sandbox }, { signal });
      } finally {
        release();
      }
      const done = performance.now();
      this.backoff.reset(key);
      this.lastError.delete(key);
      const st = await this.cri.imageStatus(imageRef, { signal }).catch(() => null);
      this.events.event(
        ref,
        'Normal',
        'Pulled',
        `Successfully pulled image "${raw}" in ${goDuration(done - started)} (${goDuration(done - queued)} including waiting). Image size: ${st?.size ?? 0} bytes.`,
      );
      return { imageRef: st?.id || imageRef, uid: uidOf(st?.uid ?? null), username: st?.username ?? '' };
    } catch (err) {
      if (signal?.aborted) throw err;
      const text = err instanceof Error ? err.message.replace(/^CRI PullImage: /, '') : String(err);
      this.backoff.next(key, this.now());
      this.lastError.set(key, text);
      if (this.lastError.size > 10_000) this.lastError.delete(this.lastError.keys().next().value as string);
      this.events.event(ref, 'Warning', 'Failed', `Failed to pull image "${raw}": ${text}`);
      const reason = /^RegistryUnavailable/.test(text)
        ? 'RegistryUnavailable'
        : /^SignatureValidationFailed/.test(text)
          ? 'SignatureValidationFailed'
          : 'ErrImagePull';
      throw new SyncError(reason, text);
    }
  }

  /** Forgets backoff state of pods that are gone. */
  gc(): void {
    this.backoff.gc(this.now());
  }
}

function uidOf(v: { value: string } | null | undefined): number | undefined {
  return v ? Number(v.value) : undefined;
}
