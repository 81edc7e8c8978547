import type { Pod } from '../api/types.js';

export type PodOp = 'ADD' | 'UPDATE' | 'DELETE' | 'RECONCILE' | 'REMOVE';

export type PodConfigHandler = (op: PodOp, pod: Pod) => void;

/** The "local" annotations the kubelet adds to every pod it receives (upstream kubetypes). */
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';

/** Upstream Timestamp.GetString: RFC3339 with 9 fixed fractional digits (logs.RFC3339NanoFixed), UTC here. */
export function seenTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}000000Z`;
}

/**
 * Upstream PodConfig's merge: every pod is annotated with its source ("api") and the time the
 * kubelet first saw it (kept across updates). They reach the sandbox annotations and the
 * downward API as upstream's do, and are ignored when diffing (upstream localAnnotations).
 */
function withLocalAnnotations(pod: Pod, seen: string): Pod {
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: {
        ...pod.metadata?.annotations,
        [CONFIG_SOURCE_ANNOTATION]: 'api',
        [CONFIG_SEEN_ANNOTATION]: seen,
      },
    },
  };
}

/** The part of a pod whose change means UPDATE (upstream checkAndUpdatePod). */
function specKey(p: Pod): string {
  return JSON.stringify([
    p.spec,
    p.metadata?.labels,
    p.metadata?.annotations,
    p.metadata?.deletionTimestamp,
    p.metadata?.deletionGracePeriodSeconds,
  ]);
}

/**
 * The desired pods by UID (upstream config.PodConfig for the one "api" source): turns list
 * snapshots and watch events into ADD / UPDATE / DELETE / RECONCILE / REMOVE operations.
 */
export class PodConfig {
  private readonly pods = new Map<string, { pod: Pod; key: string }>();
  private seen = false;

  constructor(
    private readonly handler: PodConfigHandler,
    private readonly now: () => number = Date.now,
  ) {}

  /** True once the source delivered its first full list. */
  get sourcesReady(): boolean {
    return this.seen;
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

  snapshot(pods: Pod[]): void {
    const uids = new Set<string>();
    const sorted = [...pods].sort((a, b) =>
      (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''),
    );
    for (const p of sorted) {
      const uid = p.metadata?.uid;
      if (!uid) continue;
      uids.add(uid);
      this.upsert(p);
    }
    for (const [uid, e] of [...this.pods]) {
      if (!uids.has(uid)) {
        this.pods.delete(uid);
        this.handler('REMOVE', e.pod);
      }
    }
    this.seen = true;
  }

  upsert(received: Pod): void {
    const uid = received.metadata?.uid;
    if (!uid) return;
    const old = this.pods.get(uid);
    const seen = old?.pod.metadata?.annotations?.[CONFIG_SEEN_ANNOTATION] ?? seenTimestamp(this.now());
    const pod = withLocalAnnotations(received, seen);
    const key = specKey(pod);
    this.pods.set(uid, { pod, key });
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

  delete(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || !this.pods.has(uid)) return;
    this.pods.delete(uid);
    this.handler('REMOVE', pod);
  }
}
