import { readFileSync } from 'node:fs';
import { type KubeEventRecorder, nodeRef } from '../api/events.js';
import { ObjectLookups } from '../api/lookups.js';
import { podQOSClass } from '../api/qos.js';
import type { RestClient } from '../api/rest.js';
import { ServiceCache } from '../api/serviceCache.js';
import {
  CgroupFs,
  CgroupManager,
  DEFAULT_CGROUP_ROOT,
  detectCgroups,
  type QOSClass,
  systemctlUnits,
  systemdBooted,
} from '../cgroups/index.js';
import type { ResolvedConfig } from '../config/index.js';
import type { CriClient } from '../cri/client.js';
import type { RuntimeHealth } from '../cri/health.js';
import { EvictionManager, PressureMonitor, StatsCollector } from '../eviction/index.js';
import { NodePressure } from '../eviction/pressure.js';
import { maxPids } from '../host/pids.js';
import type { HostFacts } from '../host/types.js';
import { nodeAllocatable, nodeConfigFrom } from '../node/config.js';
import { createSyncCore } from '../sync/core.js';
import { parseResolvConf } from '../sync/dns.js';
import { ImageGC, runtimeSandboxImage } from '../sync/imageGC.js';
import { ImageManager } from '../sync/images.js';
import { LogRotator } from '../sync/logRotation.js';
import { staticPodSources } from '../sync/staticPods.js';
import { newSysctlAllowlist, safeSysctlAllowlist } from '../sync/sysctl.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { VolumeManager } from '../volumes/manager.js';
import { TokenManager } from '../volumes/tokenManager.js';

/** What the pod side of the kubelet is built from (main.ts makes these first). */
export interface KubeletInputs {
  cfg: ResolvedConfig;
  rest: RestClient;
  cri: CriClient;
  recorder: KubeEventRecorder;
  facts: HostFacts;
  health: RuntimeHealth;
  hostIPs: () => string[];
  /** The registered Node's labels (admission's nodeSelector/affinity); filled once registered. */
  nodeLabels: () => Record<string, string>;
  log: Logger;
}

/** A failure to set up the node that the kubelet cannot run without (exit 1). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * Builds the pod side of the kubelet in dependency order — PLEG, volumes, cgroups, probes, the
 * kuberuntime manager, the status manager, the sync loop, eviction — and wires the reactions
 * between them through subscriptions, so no part refers to one built after it.
 */
export async function buildKubelet(x: KubeletInputs) {
  const { cfg, rest, cri, recorder, facts, log } = x;
  const nodeConfig = nodeConfigFrom(cfg);
  const allocatable = nodeAllocatable(nodeConfig, facts);

  const lookups = new ObjectLookups(rest);
  // Service-link variables (upstream serviceLister): one cluster-wide list+watch of Services.
  const serviceCache = new ServiceCache({ rest, logger: log });
  const tokens = new TokenManager(rest);
  const images = new ImageManager(cri, recorder, {
    maxParallelPulls: cfg.serializeImagePulls ? 1 : (cfg.maxParallelImagePulls ?? 10),
  });
  const volumes = new VolumeManager(
    cfg.rootDir,
    {
      configMap: (n, name) => lookups.configMap(n, name),
      secret: (n, name) => lookups.secret(n, name),
      token: (pod, sa, audience, expirationSeconds, sig) =>
        tokens.getToken(
          {
            namespace: pod.metadata?.namespace ?? 'default',
            serviceAccount: sa,
            audiences: audience ? [audience] : [],
            expirationSeconds,
            podName: pod.metadata?.name ?? '',
            podUid: pod.metadata?.uid ?? '',
          },
          sig,
        ),
    },
    { allocatable, logger: log.child({ component: 'volumes' }) },
  );
  let hostResolv: ReturnType<typeof parseResolvConf> | undefined;
  if (cfg.resolvConf) {
    try {
      hostResolv = parseResolvConf(readFileSync(cfg.resolvConf, 'utf8'));
    } catch (err) {
      log.warn({ err: errorMessage(err), resolvConf: cfg.resolvConf }, 'cannot read resolvConf');
    }
  }

  // cgroup v2 QoS hierarchy: kubepods / burstable / besteffort / pod<uid>.
  const cgroupHost = await detectCgroups();
  const cgroupV2 = cgroupHost.mode === 'unified';
  const cgroupFs = new CgroupFs({ root: cgroupHost.unifiedMount || DEFAULT_CGROUP_ROOT });
  if (cfg.cgroupsPerQOS && !cgroupV2) {
    log.warn(
      { mode: cgroupHost.mode },
      "cgroupsPerQOS needs the cgroup v2 unified hierarchy: pods run in the runtime's default cgroup parent",
    );
  }
  const cgroups = new CgroupManager({
    fs: cgroupFs,
    driver: cfg.cgroupDriver,
    cgroupsPerQOS: cfg.cgroupsPerQOS && cgroupV2,
    cgroupRoot: cfg.cgroupRoot,
    cpuCFSQuota: cfg.cpuCFSQuota,
    cpuCFSQuotaPeriodMs: cfg.cpuCFSQuotaPeriodMs,
    podPidsLimit: cfg.podPidsLimit,
    capacity: { cpuMillis: facts.cpuCores * 1000, memoryBytes: facts.memoryBytes, pids: await maxPids() },
    kubeReserved: cfg.kubeReserved,
    systemReserved: cfg.systemReserved,
    enforceNodeAllocatable: cfg.enforceNodeAllocatable,
    qosOf: (pod) => podQOSClass(pod) as QOSClass,
    systemd: cfg.cgroupDriver === 'systemd' && (await systemdBooted()) ? systemctlUnits() : undefined,
    onNodeEvent: (type, reason, message) => recorder.event(nodeRef(cfg.nodeName), type, reason, message),
    logger: log,
  });
  try {
    await cgroups.start();
  } catch (err) {
    throw new StartupError(`cgroup setup failed: ${errorMessage(err)}`, { cause: err });
  }
  log.info({ mode: cgroupHost.mode, driver: cfg.cgroupDriver, enabled: cgroups.enabled }, 'cgroups');

  // Safe sysctls can always be used as unsafe ones: one allowlist (upstream NewMainKubelet).
  const sysctlAllowlist = newSysctlAllowlist([
    ...safeSysctlAllowlist(facts.kernelVersion),
    ...cfg.allowedUnsafeSysctls,
  ]);
  const nodePressure = new NodePressure();
  const core = createSyncCore({
    cri,
    statusApi: rest,
    images,
    volumes,
    events: recorder,
    envLookup: {
      configMap: (n, name) => lookups.configMap(n, name),
      secret: (n, name) => lookups.secret(n, name),
      services: async (namespace) => serviceCache.forNamespace(namespace),
    },
    hostIPs: x.hostIPs,
    runtimeName: () => x.health.current.runtimeName || 'containerd',
    admissionNode: () => ({
      name: cfg.nodeName,
      labels: x.nodeLabels(),
      allocatable,
      pressure: nodePressure.conditions(),
      os: 'linux',
      sysctls: sysctlAllowlist,
    }),
    syncer: {
      nodeName: cfg.nodeName,
      podLogsDir: cfg.podLogsDir,
      clusterDomain: cfg.clusterDomain,
      dns: { clusterDNS: cfg.clusterDNS, clusterDomain: cfg.clusterDomain, host: hostResolv },
      cgroupV2,
      cpuCfsQuota: cfg.cpuCFSQuota,
      memoryCapacityBytes: facts.memoryBytes,
      allocatable,
      cgroupParent: (pod) => cgroups.podCgroupParent(pod),
    },
    criConcurrency: cfg.criConcurrency,
    cgroups: cgroups.enabled ? cgroups : undefined,
    mirrorApi: rest,
    logger: log,
    resyncMs: cfg.syncFrequencyMs,
  });
  const { pleg, syncLoop, syncer, podActive, statusManager, probeManager } = core;
  cgroups.setActivePods(() => syncLoop.activePods());

  // Node-pressure eviction.
  const evictionStats = new StatsCollector({
    cri,
    cgroupV2: cgroupV2 ? cgroupFs : undefined,
    memoryV1Root: cgroupV2 ? undefined : new CgroupFs({ root: `${DEFAULT_CGROUP_ROOT}/memory` }),
    podsCgroupPath: cgroups.nodeAllocatablePath(),
    rootDir: cfg.rootDir,
    podLogsDir: cfg.podLogsDir,
    memoryCapacityBytes: facts.memoryBytes,
    podProcesses: () => cgroups.podProcessCounts(),
  });
  let sandboxImages: Promise<string[]> | undefined;
  const imageGC = new ImageGC({
    cri,
    protectedImages: () => {
      sandboxImages ??= runtimeSandboxImage(cri).catch(() => []);
      return sandboxImages;
    },
    imageMinimumGCAgeMs: cfg.imageMinimumGCAgeMs,
    logger: log,
  });
  const eviction = new EvictionManager({
    nodeName: cfg.nodeName,
    thresholds: cfg.evictionThresholds,
    pressureTransitionPeriodMs: cfg.evictionPressureTransitionPeriodMs,
    maxPodGracePeriodSeconds: cfg.evictionMaxPodGracePeriodSeconds,
    stats: evictionStats,
    activePods: () => syncLoop.activePods(),
    killPod: (pod, kill) => syncLoop.killPod(pod.metadata?.uid ?? '', kill),
    podCleanedUp: (uid) => !podActive(uid),
    events: recorder,
    reclaim: {
      deleteAllUnusedContainers: (signal) => syncer.gc.deleteAllUnusedContainers(podActive, signal),
      deleteUnusedImages: (signal) => imageGC.deleteUnusedImages(signal),
    },
    pressure: nodePressure,
    logger: log,
  });
  const pressureMonitor = new PressureMonitor({
    nodeMemory: () => evictionStats.nodeMemory(),
    thresholds: cfg.evictionThresholds,
    pressureFile: cgroupV2 ? cgroupFs.path('/', 'memory.pressure') : '/proc/pressure/memory',
    eventsFiles: cgroups.enabled ? [cgroupFs.path(cgroups.nodeAllocatablePath(), 'memory.events')] : [],
    onTrigger: (reason) => eviction.trigger(reason),
    logger: log,
  });
  // staticPodPath / staticPodURL: their pods run without the API server.
  const staticSources = staticPodSources(cfg, syncLoop, log);
  const logRotator = new LogRotator({
    cri,
    maxSizeBytes: cfg.containerLogMaxSizeBytes,
    maxFiles: cfg.containerLogMaxFiles,
    logger: log,
  });

  return {
    nodeConfig,
    pleg,
    syncLoop,
    statusManager,
    probeManager,
    nodePressure,
    /** The long-running loops of the pod side, each until `signal` aborts. */
    run: (signal: AbortSignal): Promise<unknown>[] => [
      logRotator.run(signal),
      pleg.run(signal),
      statusManager.run(signal),
      serviceCache.run(signal),
      syncLoop.run(signal),
      eviction.run(signal),
      pressureMonitor.run(signal),
      cgroups.run(signal),
      ...staticSources.map((source) => source.run(signal)),
    ],
  };
}

export type Kubelet = Awaited<ReturnType<typeof buildKubelet>>;
