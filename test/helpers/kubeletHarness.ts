import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, Pod, PodStatus, Secret, Service } from '../../src/api/types.js';
import { CriClient } from '../../src/cri/client.js';
import type { Pleg } from '../../src/cri/pleg.js';
import type { ProbeManager, ProbeRunMetric } from '../../src/probes/index.js';
import type { StatusManager } from '../../src/status/manager.js';
import { createSyncCore } from '../../src/sync/core.js';
import type { EventRef, EventSink, EventType } from '../../src/sync/events.js';
import { ImageManager } from '../../src/sync/images.js';
import type { PodCgroupHooks, SyncLoop } from '../../src/sync/syncLoop.js';
import { newSysctlAllowlist, safeSysctlAllowlist } from '../../src/sync/sysctl.js';
import { VolumeManager } from '../../src/volumes/manager.js';

export interface HarnessOptions {
  /** Called after every probe run. */
  observeProbe?: (m: ProbeRunMetric) => void;
  /** PLEG relist period (default 200 ms; upstream 1 s). */
  relistPeriodMs?: number;
  /** Housekeeping period (default 300 ms; upstream 2 s). */
  housekeepingMs?: number;
  /** Pod resync (default 5 s; upstream 1 min). */
  resyncMs?: number;
  /** Node pressure conditions admission sees (an EvictionManager's nodeConditions). */
  pressure?: () => readonly string[];
  /** Pod cgroups (a CgroupManager): hooks for the sync loop and each pod's cgroup_parent. */
  cgroups?: PodCgroupHooks & { podCgroupParent(pod: Pod): string };
}

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
  /** The API objects the kubelet reads, by `<namespace>/<name>`; tests add, change and remove them. */
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  /** Every Service (for service-link variables); undefined: not read yet (CreateContainerConfigError). */
  services: Service[] | undefined = [];
  readonly cri: CriClient;
  readonly loop: SyncLoop;
  readonly statuses: StatusManager;
  readonly pleg: Pleg;
  readonly probes: ProbeManager;
  private readonly ac = new AbortController();

  private constructor(
    endpoint: string,
    readonly dir: string,
    opts: HarnessOptions,
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
    const images = new ImageManager(this.cri, sink);
    const objects = {
      configMap: async (ns: string, name: string) => this.configMaps.get(`${ns}/${name}`),
      secret: async (ns: string, name: string) => this.secrets.get(`${ns}/${name}`),
    };
    const volumes = new VolumeManager(join(dir, 'root'), { ...objects, token: async () => 'test-token' });
    const core = createSyncCore({
      cri: this.cri,
      statusApi: noApi,
      images,
      volumes,
      events: sink,
      envLookup: { ...objects, services: async () => this.services },
      hostIPs: () => ['10.0.0.1'],
      runtimeName: () => 'containerd',
      admissionNode: () => ({
        name: 'node-a',
        labels: { 'kubernetes.io/hostname': 'node-a' },
        allocatable: {
          cpuMillis: 2000,
          memoryBytes: 8 * 1024 ** 3,
          ephemeralBytes: 100 * 1024 ** 3,
          pods: 110,
        },
        pressure: opts.pressure?.() ?? [],
        os: 'linux',
        sysctls: newSysctlAllowlist(safeSysctlAllowlist('6.1.0')),
      }),
      syncer: {
        nodeName: 'node-a',
        podLogsDir: join(dir, 'logs'),
        clusterDomain: 'cluster.local',
        dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host: undefined },
        cgroupV2: false,
        cpuCfsQuota: true,
        memoryCapacityBytes: 8 * 1024 ** 3,
        allocatable: { cpuMillis: 2000, memoryBytes: 8 * 1024 ** 3, ephemeralBytes: 100 * 1024 ** 3 },
        cgroupParent: (pod) => opts.cgroups?.podCgroupParent(pod) ?? '',
      },
      criConcurrency: 8,
      cgroups: opts.cgroups,
      relistPeriodMs: opts.relistPeriodMs ?? 200,
      housekeepingMs: opts.housekeepingMs ?? 300,
      resyncMs: opts.resyncMs ?? 5_000,
      observeProbe: opts.observeProbe,
    });
    this.statuses = core.statusManager;
    this.probes = core.probeManager;
    this.pleg = core.pleg;
    this.loop = core.syncLoop;
  }

  static async start(endpoint: string, opts: HarnessOptions = {}): Promise<KubeletHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'kts-harness-'));
    const h = new KubeletHarness(endpoint, dir, opts);
    void h.pleg.run(h.ac.signal);
    void h.loop.run(h.ac.signal);
    return h;
  }

  /** Adds or replaces a ConfigMap or Secret the kubelet can read. */
  put(obj: (ConfigMap & { kind: 'ConfigMap' }) | (Secret & { kind: 'Secret' })): void {
    const key = `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name ?? ''}`;
    if (obj.kind === 'ConfigMap') this.configMaps.set(key, obj);
    else this.secrets.set(key, obj);
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
    this.probes.stop();
    this.cri.close();
    // Workers may still be writing pod files: retry on ENOTEMPTY.
    await rm(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
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
