import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, PodStatus } from '../../src/api/types.js';
import { CriClient } from '../../src/cri/client.js';
import { Pleg } from '../../src/cri/pleg.js';
import { StatusManager } from '../../src/status/manager.js';
import type { EventRef, EventSink, EventType } from '../../src/sync/events.js';
import { ImageManager } from '../../src/sync/images.js';
import { PodSyncer } from '../../src/sync/podSyncer.js';
import { SyncLoop } from '../../src/sync/syncLoop.js';
import { Semaphore } from '../../src/util/semaphore.js';
import { VolumeManager } from '../../src/volumes/manager.js';

export interface RecordedEvent {
  ref: EventRef;
  type: EventType;
  reason: string;
  message: string;
}

/**
 * The kubelet's sync core wired against a CRI endpoint, without an apiserver: pods are fed
 * straight into the pod config, and statuses are read from the status manager's cache.
 */
export class KubeletHarness {
  readonly events: RecordedEvent[] = [];
  readonly cri: CriClient;
  readonly loop: SyncLoop;
  readonly statuses: StatusManager;
  readonly pleg: Pleg;
  private readonly ac = new AbortController();

  private constructor(
    endpoint: string,
    readonly dir: string,
  ) {
    this.cri = new CriClient({ endpoint });
    const sink: EventSink = {
      event: (ref, type, reason, message) => this.events.push({ ref, type, reason, message }),
    };
    const noApi = {
      get: () => Promise.reject(new Error('no apiserver in this harness')),
      patch: () => Promise.reject(new Error('no apiserver in this harness')),
      delete: () => Promise.reject(new Error('no apiserver in this harness')),
    };
    this.statuses = new StatusManager({ client: noApi });
    const images = new ImageManager(this.cri, sink);
    const volumes = new VolumeManager(join(dir, 'root'), {
      configMap: async () => undefined,
      secret: async () => undefined,
      token: async () => 'test-token',
    });
    const syncer = new PodSyncer({
      cri: this.cri,
      images,
      volumes,
      events: sink,
      envLookup: { configMap: async () => undefined, secret: async () => undefined },
      hostIPs: () => ['10.0.0.1'],
      criLimiter: new Semaphore(8),
      probes: { liveness: () => undefined, startup: () => undefined },
      config: {
        nodeName: 'node-a',
        podLogsDir: join(dir, 'logs'),
        clusterDomain: 'cluster.local',
        dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host: undefined },
        cgroupV2: false,
        cpuCfsQuota: true,
        memoryCapacityBytes: 8 * 1024 ** 3,
        allocatable: { cpuMillis: 2000, memoryBytes: 8 * 1024 ** 3, ephemeralBytes: 100 * 1024 ** 3 },
        cgroupParent: () => '',
      },
    });
    let loop: SyncLoop | undefined;
    this.pleg = new Pleg({ cri: this.cri, onEvent: (ev) => loop?.onPlegEvent(ev), relistPeriodMs: 200 });
    loop = new SyncLoop({
      nodeName: 'node-a',
      cri: this.cri,
      pleg: this.pleg,
      syncer,
      images,
      volumes,
      statusManager: this.statuses,
      events: sink,
      runtimeName: () => 'containerd',
      hostIPs: () => ['10.0.0.1'],
      admissionNode: () => ({
        name: 'node-a',
        labels: { 'kubernetes.io/hostname': 'node-a' },
        allocatable: {
          cpuMillis: 2000,
          memoryBytes: 8 * 1024 ** 3,
          ephemeralBytes: 100 * 1024 ** 3,
          pods: 110,
        },
      }),
      housekeepingMs: 300,
      resyncMs: 5_000,
    });
    this.loop = loop;
  }

  static async start(endpoint: string): Promise<KubeletHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'kts-harness-'));
    const h = new KubeletHarness(endpoint, dir);
    void h.pleg.run(h.ac.signal);
    void h.loop.run(h.ac.signal);
    return h;
  }

  /** Replaces the set of pods bound to the node (like a list from the apiserver). */
  setPods(pods: Pod[]): void {
    this.loop.podConfig.snapshot(pods);
  }

  update(pod: Pod): void {
    this.loop.podConfig.upsert(pod);
  }

  status(uid: string): PodStatus | undefined {
    return this.statuses.getPodStatus(uid);
  }

  async waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; events: ${this.events.map((e) => `${e.reason}: ${e.message}`).join(' | ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.ac.abort();
    this.loop.workers.stop();
    this.cri.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

let n = 0;
/** A minimal pod bound to node-a, as the apiserver would default it. */
export function testPod(name: string, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  n++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}-${n}-${Math.random().toString(16).slice(2, 8)}`,
      creationTimestamp: new Date().toISOString(),
      generation: 1,
    },
    spec: {
      nodeName: 'node-a',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 2,
      containers: [
        { name: 'app', image: 'localhost:5999/kubelet-ts/busybox:1.36', command: ['sleep', 'infinity'] },
      ],
      ...spec,
    },
    status: { phase: 'Pending' },
  };
}
