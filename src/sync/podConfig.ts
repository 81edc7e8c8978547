import type { Pod } from '../api/types.js';
import {
  CONFIG_MIRROR_ANNOTATION,
  CONFIG_SEEN_ANNOTATION,
  CONFIG_SOURCE_ANNOTATION,
} from './staticPodManifest.js';

export type PodOp = 'ADD' | 'UPDATE' | 'DELETE' | 'RECONCILE' | 'REMOVE';

export type PodConfigHandler = (op: PodOp, pod: Pod) => void;

/** A mirror pod appeared or changed ('set') or disappeared from the API ('delete'). */
export type MirrorPodHandler = (op: 'set' | 'delete', mirror: Pod) => void;

/** Upstream kubetypes: the API source, the file (staticPodPath) and http (staticPodURL) sources. */
export const API_SOURCE = 'api';
export const FILE_SOURCE = 'file';
export const HTTP_SOURCE = 'http';

/** Annotations the kubelet itself adds; they never make a pod "changed" (upstream localAnnotations). */
const LOCAL_ANNOTATIONS = [CONFIG_SOURCE_ANNOTATION, CONFIG_MIRROR_ANNOTATION, CONFIG_SEEN_ANNOTATION];

function withoutLocal(a: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!a || !LOCAL_ANNOTATIONS.some((k) => k in a)) return a;
  const out = { ...a };
  for (const k of LOCAL_ANNOTATIONS) delete out[k];
  return out;
}

/** The part of a pod whose change means UPDATE (upstream checkAndUpdatePod). */
function specKey(p: Pod): string {
  return JSON.stringify([
    p.spec,
    p.metadata?.labels,
    withoutLocal(p.metadata?.annotations),
    p.metadata?.deletionTimestamp,
    p.metadata?.deletionGracePeriodSeconds,
  ]);
}

/** `<name>_<namespace>` (upstream kubecontainer.GetPodFullName). */
export const podFullName = (p: Pod): string => `${p.metadata?.name ?? ''}_${p.metadata?.namespace ?? ''}`;

const isMirror = (p: Pod): boolean => p.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;

/** Upstream Timestamp.GetString: RFC3339 with 9 fixed fractional digits (logs.RFC3339NanoFixed), UTC here. */
export function seenTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}000000Z`;
}

/** The pod with the kubelet's local annotations: its source and when it was first seen. */
function withLocalAnnotations(pod: Pod, source: string, seen: string): Pod {
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: {
        ...pod.metadata?.annotations,
        [CONFIG_SOURCE_ANNOTATION]: source,
        [CONFIG_SEEN_ANNOTATION]: seen,
      },
    },
  };
}

interface Entry {
  pod: Pod;
  key: string;
  source: string;
}

/**
 * The desired pods by UID (upstream config.PodConfig + the pod manager's split of mirror pods):
 * turns each source's snapshots and watch events into ADD / UPDATE / DELETE / RECONCILE /
 * REMOVE operations. Every pod is annotated with kubernetes.io/config.source and
 * kubernetes.io/config.seen (first sighting). Mirror pods from the API are not desired pods: they
 * are kept by full name for the static pods they mirror and reported to `onMirror`.
 */
export class PodConfig {
  private readonly pods = new Map<string, Entry>();
  private readonly mirrors = new Map<string, Pod>();
  private readonly sources = new Set<string>([API_SOURCE]);
  private readonly seen = new Set<string>();
  onMirror: MirrorPodHandler | undefined;

  constructor(
    private readonly handler: PodConfigHandler,
    private readonly now: () => number = Date.now,
  ) {}

  /** Declares a source whose first snapshot housekeeping must wait for (upstream SeenAllSources). */
  addSource(source: string): void {
    this.sources.add(source);
  }

  /** True once every declared source delivered its first full list. */
  get sourcesReady(): boolean {
    for (const s of this.sources) if (!this.seen.has(s)) return false;
    return true;
  }

  get(uid: string): Pod | undefined {
    return this.pods.get(uid)?.pod;
  }

  all(): Pod[] {
    return [...this.pods.values()].map((e) => e.pod);
  }

  get size(): number {
    return this.pods.size;
  }

  /** The mirror pod of a static pod's full name, as last seen from the API. */
  mirrorPod(fullName: string): Pod | undefined {
    return this.mirrors.get(fullName);
  }

  mirrorPods(): Pod[] {
    return [...this.mirrors.values()];
  }

  snapshot(pods: Pod[], source: string = API_SOURCE): void {
    const sorted = [...pods].sort((a, b) =>
      (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''),
    );
    const keep: Pod[] = [];
    const uids = new Set<string>();
    const mirrors = new Set<string>();
    const names = new Set<string>();
    for (const p of sorted) {
      const uid = p.metadata?.uid;
      if (!uid) continue;
      if (source === API_SOURCE && isMirror(p)) {
        mirrors.add(podFullName(p));
        keep.push(p);
        continue;
      }
      // Upstream filterInvalidPods: a second pod with the same full name in one source is dropped.
      if (source !== API_SOURCE) {
        if (names.has(podFullName(p))) continue;
        names.add(podFullName(p));
      }
      uids.add(uid);
      keep.push(p);
    }
    // Upstream Merge delivers REMOVE before ADD: a static pod whose manifest changed (new UID)
    // is admitted without its predecessor counting against it (host ports, resources).
    for (const [uid, e] of [...this.pods]) {
      if (e.source === source && !uids.has(uid)) {
        this.pods.delete(uid);
        this.handler('REMOVE', e.pod);
      }
    }
    if (source === API_SOURCE) {
      for (const [name, m] of [...this.mirrors]) {
        if (!mirrors.has(name)) this.deleteMirror(m);
      }
    }
    for (const p of keep) this.upsert(p, source);
    this.seen.add(source);
  }

  upsert(received: Pod, source: string = API_SOURCE): void {
    const uid = received.metadata?.uid;
    if (!uid) return;
    if (source === API_SOURCE && isMirror(received)) {
      this.mirrors.set(podFullName(received), received);
      this.onMirror?.('set', received);
      return;
    }
    const old = this.pods.get(uid);
    // Every pod carries its source and when the kubelet first saw it (upstream PodConfig's merge);
    // they reach the sandbox annotations and the downward API as upstream's do.
    const seen = old?.pod.metadata?.annotations?.[CONFIG_SEEN_ANNOTATION] ?? seenTimestamp(this.now());
    const pod = withLocalAnnotations(received, source, seen);
    const key = specKey(pod);
    this.pods.set(uid, { pod, key, source });
    if (!old) {
      this.handler('ADD', pod);
      return;
    }
    if (old.key !== key) {
      const deleting = pod.metadata?.deletionTimestamp && !old.pod.metadata?.deletionTimestamp;
      this.handler(deleting ? 'DELETE' : 'UPDATE', pod);
      return;
    }
    this.handler('RECONCILE', pod);
  }

  delete(pod: Pod, source: string = API_SOURCE): void {
    const uid = pod.metadata?.uid;
    if (source === API_SOURCE && isMirror(pod)) {
      this.deleteMirror(pod);
      return;
    }
    if (!uid || !this.pods.has(uid)) return;
    this.pods.delete(uid);
    this.handler('REMOVE', pod);
  }

  private deleteMirror(pod: Pod): void {
    const name = podFullName(pod);
    const current = this.mirrors.get(name);
    if (!current || current.metadata?.uid !== pod.metadata?.uid) return;
    this.mirrors.delete(name);
    this.onMirror?.('delete', pod);
  }
}
