import type { CriClient } from '../cri/client.js';
import type { RuntimePodRef } from '../cri/pleg.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../cri/runtimeState.js';
import type { StatusApi } from '../status/manager.js';
import type { StepInput, TimelineSink } from '../timeline/types.js';
import type { EventSink } from './events.js';
import type { KillRequest, SyncOutcome, WorkerHandlers } from './podWorkers.js';

/**
 * The timeline's observers on the sync core's seams (issue 18): wrappers around the CRI client
 * the kuberuntime manager uses, the status API, the event sink and the pod worker handlers. They
 * record and pass everything through unchanged; nothing here decides anything.
 */

type Owner = { uid: string; container?: string };

/** Which pod (and container) a CRI call is about, learned from the calls themselves. */
class CriOwners {
  private readonly sandboxes = new Map<string, string>();
  private readonly containers = new Map<string, Owner>();
  constructor(private readonly fallback: (containerId: string) => Owner | undefined) {}

  sandbox(id: string, uid: string): void {
    bounded(this.sandboxes).set(id, uid);
  }
  container(id: string, o: Owner): void {
    bounded(this.containers).set(id, o);
  }
  ofSandbox(id: string): string | undefined {
    return this.sandboxes.get(id);
  }
  ofContainer(id: string): Owner | undefined {
    return this.containers.get(id) ?? this.fallback(id);
  }
}

/** Keeps an ID map under 20 000 entries (oldest first out): IDs of long-removed containers are never asked for. */
function bounded<V>(m: Map<string, V>): Map<string, V> {
  if (m.size >= 20_000) m.delete(m.keys().next().value as string);
  return m;
}

/** The failure's short name: the CRI error kind (gRPC code name) or the error's name. */
export function failureName(err: unknown): string {
  const e = err as { kind?: unknown; reason?: unknown; name?: unknown };
  if (typeof e?.kind === 'string') return e.kind;
  if (typeof e?.reason === 'string') return e.reason;
  return typeof e?.name === 'string' ? e.name : 'Error';
}

const errText = (err: unknown): string =>
  ((err as { details?: string; message?: string })?.details || (err as Error)?.message) ?? String(err);

async function traced<T>(
  sink: TimelineSink,
  uid: string | undefined,
  step: StepInput,
  call: () => Promise<T>,
  detail?: (v: T) => string | undefined,
): Promise<T> {
  if (!uid) return call();
  const end = sink.begin(uid, step);
  try {
    const v = await call();
    end('ok', detail?.(v));
    return v;
  } catch (err) {
    end(failureName(err), errText(err));
    throw err;
  }
}

/**
 * The CRI client the kuberuntime manager drives, recording every call that changes a pod
 * (RunPodSandbox, Create/Start/Stop/RemoveContainer, Stop/RemovePodSandbox) with its duration
 * and result. Calls are attributed through the sandbox config's UID and the IDs they return;
 * `lookup` names containers the kubelet found already running (the runtime cache).
 */
export function traceCri(
  cri: CriClient,
  sink: TimelineSink,
  lookup: (containerId: string) => Owner | undefined = () => undefined,
): CriClient {
  const owners = new CriOwners(lookup);
  const wrap: Partial<Record<keyof CriClient, unknown>> = {
    runPodSandbox: (req: Parameters<CriClient['runPodSandbox']>[0], o?: unknown) => {
      const uid = req.config?.metadata?.uid ?? '';
      return traced(
        sink,
        uid,
        { kind: 'cri', step: 'RunPodSandbox', detail: `attempt ${req.config?.metadata?.attempt ?? 0}` },
        async () => {
          const r = await cri.runPodSandbox(req, o as never);
          owners.sandbox(r.podSandboxId, uid);
          return r;
        },
        (r) => `sandbox ${r.podSandboxId.slice(0, 13)}`,
      );
    },
    stopPodSandbox: (id: string, o?: unknown) =>
      traced(sink, owners.ofSandbox(id), { kind: 'cri', step: 'StopPodSandbox' }, () =>
        cri.stopPodSandbox(id, o as never),
      ),
    removePodSandbox: (id: string, o?: unknown) =>
      traced(sink, owners.ofSandbox(id), { kind: 'cri', step: 'RemovePodSandbox' }, () =>
        cri.removePodSandbox(id, o as never),
      ),
    createContainer: (req: Parameters<CriClient['createContainer']>[0], o?: unknown) => {
      const labels = req.config?.labels ?? {};
      const uid = labels[LABEL_POD_UID] ?? owners.ofSandbox(req.podSandboxId ?? '') ?? '';
      const container = labels[LABEL_CONTAINER_NAME] ?? req.config?.metadata?.name ?? '';
      return traced(
        sink,
        uid,
        { kind: 'cri', step: 'CreateContainer', container },
        async () => {
          const id = await cri.createContainer(req, o as never);
          owners.container(id, { uid, container });
          return id;
        },
        (id) => `container ${id.slice(0, 13)}`,
      );
    },
    startContainer: (id: string, o?: unknown) => {
      const w = owners.ofContainer(id);
      return traced(sink, w?.uid, { kind: 'cri', step: 'StartContainer', container: w?.container }, () =>
        cri.startContainer(id, o as never),
      );
    },
    stopContainer: (id: string, timeoutSeconds: number, o?: unknown) => {
      const w = owners.ofContainer(id);
      return traced(
        sink,
        w?.uid,
        {
          kind: 'cri',
          step: 'StopContainer',
          container: w?.container,
          detail: `grace ${timeoutSeconds}s`,
        },
        () => cri.stopContainer(id, timeoutSeconds, o as never),
      );
    },
    removeContainer: (id: string, o?: unknown) => {
      const w = owners.ofContainer(id);
      return traced(sink, w?.uid, { kind: 'cri', step: 'RemoveContainer', container: w?.container }, () =>
        cri.removeContainer(id, o as never),
      );
    },
  };
  return new Proxy(cri, {
    get(target, prop, receiver) {
      const w = wrap[prop as keyof typeof wrap];
      if (w) return w;
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as CriClient;
}

/** The status API the status manager writes through, recording each pods/status PATCH (sent, acknowledged). */
export function traceStatusApi(api: StatusApi, sink: TimelineSink): StatusApi {
  return {
    get: (path, o) => api.get(path, o),
    delete: async (path, body, o) => {
      const uid = (body as { preconditions?: { uid?: string } } | undefined)?.preconditions?.uid;
      return traced(sink, uid, { kind: 'status', step: 'DELETE pod' }, () => api.delete(path, body, o));
    },
    patch: async <T>(path: string, body: unknown, type: Parameters<StatusApi['patch']>[2], o?: unknown) => {
      const b = body as { metadata?: { uid?: string }; status?: { phase?: string; conditions?: unknown[] } };
      const parts = [
        b?.status?.phase ? `phase ${b.status.phase}` : '',
        readyOf(b?.status?.conditions) ?? '',
      ].filter(Boolean);
      return traced(
        sink,
        b?.metadata?.uid,
        { kind: 'status', step: 'PATCH status', ...(parts.length ? { detail: parts.join(', ') } : {}) },
        () => api.patch<T>(path, body, type, o as never),
      );
    },
  };
}

function readyOf(conditions: unknown[] | undefined): string | undefined {
  const c = (conditions as { type?: string; status?: string }[] | undefined)?.find((x) => x.type === 'Ready');
  return c?.status ? `Ready=${c.status}` : undefined;
}

/** The event sink of the sync core, copying every pod event into the pod's timeline. */
export function traceEvents(events: EventSink, sink: TimelineSink): EventSink {
  return {
    event(ref, type, reason, message) {
      events.event(ref, type, reason, message);
      if (ref.kind !== 'Pod' || !ref.uid) return;
      const m = /\{(.+)\}$/.exec(ref.fieldPath ?? '');
      sink.record(ref.uid, {
        kind: 'event',
        step: reason,
        ...(m?.[1] ? { container: m[1] } : {}),
        result: type === 'Warning' ? 'Warning' : 'ok',
        detail: message,
      });
    },
  };
}

/** Why a kill was asked for, in words (eviction, deadline, deletion, removal). */
export function killDetail(kill: KillRequest | undefined, grace: number | undefined): string {
  const who = kill?.status?.reason ?? (kill ? 'kubelet' : 'pod deletion');
  return `${who}${kill?.status?.message ? `: ${kill.status.message}` : ''}${grace !== undefined ? ` (grace ${grace}s)` : ''}`;
}

/** The pod worker handlers, recording each SyncPod / SyncTerminatingPod / SyncTerminatedPod pass. */
export function traceHandlers(h: WorkerHandlers, sink: TimelineSink): WorkerHandlers {
  const started = new Set<string>();
  const uidOf = (pod: { metadata?: { uid?: string } }) => pod.metadata?.uid ?? '';
  return {
    syncPod: (pod, signal) => {
      const uid = uidOf(pod);
      if (!started.has(uid)) {
        started.add(uid);
        if (started.size > 50_000) started.delete(started.values().next().value as string);
        sink.record(uid, { kind: 'worker', step: 'worker started' });
      }
      return traced<SyncOutcome>(
        sink,
        uid,
        { kind: 'worker', step: 'SyncPod' },
        () => h.syncPod(pod, signal),
        (o) =>
          o.terminal
            ? 'pod is terminal'
            : o.requeueAfterMs !== undefined
              ? `retry in ${Math.round(o.requeueAfterMs)}ms`
              : undefined,
      );
    },
    syncTerminatingPod: (pod, grace, kill, signal) =>
      traced(
        sink,
        uidOf(pod),
        { kind: 'worker', step: 'SyncTerminatingPod', detail: killDetail(kill, grace) },
        () => h.syncTerminatingPod(pod, grace, kill, signal),
      ),
    syncTerminatedPod: (pod, kill, signal) => {
      const uid = uidOf(pod);
      started.delete(uid);
      return traced(sink, uid, { kind: 'worker', step: 'SyncTerminatedPod' }, () =>
        h.syncTerminatedPod(pod, kill, signal),
      );
    },
    syncTerminatingRuntimePod: (ref: RuntimePodRef, signal) => h.syncTerminatingRuntimePod(ref, signal),
  };
}
