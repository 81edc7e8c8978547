#!/usr/bin/env node
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { KubeEventRecorder, nodeRef, restEventSink } from './api/events.js';
import { type ClientConfig, loadKubeconfig } from './api/kubeconfig.js';
import { ObjectLookups } from './api/lookups.js';
import { PodSource } from './api/podSource.js';
import { RestClient } from './api/rest.js';
import { ServiceCache } from './api/serviceCache.js';
import {
  CgroupFs,
  CgroupManager,
  DEFAULT_CGROUP_ROOT,
  detectCgroups,
  type QOSClass,
  systemctlUnits,
  systemdBooted,
} from './cgroups/index.js';
import {
  ConfigError,
  FlagError,
  parseFlags,
  type ResolvedConfig,
  resolveConfig,
  usage,
} from './config/index.js';
import { CriClient } from './cri/client.js';
import { RuntimeHealth } from './cri/health.js';
import { inspectPod } from './cri/inspect.js';
import { Pleg } from './cri/pleg.js';
import {
  EvictionManager,
  NodeReclaimer,
  PressureMonitor,
  runtimeSandboxImage,
  StatsCollector,
} from './eviction/index.js';
import { gatherHostFacts } from './host/facts.js';
import { maxPids } from './host/pids.js';
import { fsUsage, nodeUsage } from './host/procStats.js';
import type { HostFacts } from './host/types.js';
import { bootstrapClientCertificate } from './node/bootstrap.js';
import { NodeLeaseController } from './node/lease.js';
import { registerNode } from './node/registration.js';
import { buildInitialNode, buildNodeStatus, type NodeConfig } from './node/setters.js';
import { NodeStatusUpdater } from './node/statusUpdater.js';
import { LifecycleHandlerRunner, ProbeManager } from './probes/index.js';
import { KubeletAuth } from './server/auth.js';
import { startHealthz } from './server/healthz.js';
import { KubeletMetrics } from './server/metrics.js';
import { KubeletServer } from './server/server.js';
import { StatsProvider } from './server/stats.js';
import { servingCert } from './server/tls.js';
import { StatusManager } from './status/manager.js';
import { podQOSClass } from './status/qos.js';
import { ActuatedState } from './sync/actuatedState.js';
import type { AdmissionNode } from './sync/admission.js';
import { parseResolvConf } from './sync/dns.js';
import { ImageManager } from './sync/images.js';
import { LogRotator } from './sync/logRotation.js';
import { PodSyncer } from './sync/podSyncer.js';
import { SyncLoop } from './sync/syncLoop.js';
import { newSysctlAllowlist, safeSysctlAllowlist } from './sync/sysctl.js';
import { sleep } from './util/abort.js';
import { createLogger, type Logger } from './util/log.js';
import { cpuToMillis, memoryToBytes } from './util/quantity.js';
import { Semaphore } from './util/semaphore.js';
import { VolumeManager } from './volumes/manager.js';
import { TokenManager } from './volumes/tokenManager.js';

const VERSION = 'v1.37.2';

/** Retries `fn` with backoff (200 ms doubling to 7 s) until it works, logging why it does not. */
async function untilReady<T>(
  what: string,
  fn: () => Promise<T>,
  log: Logger,
  signal: AbortSignal,
): Promise<T> {
  let delay = 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw err;
      log.warn(
        { attempt, retryInMs: delay, err: err instanceof Error ? err.message : String(err) },
        `waiting for ${what}`,
      );
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 7_000);
    }
  }
}

function nodeConfigFrom(cfg: ResolvedConfig): NodeConfig {
  const memHard = cfg.evictionThresholds.find(
    (t) => t.signal === 'memory.available' && t.gracePeriodMs === 0,
  );
  const fsHard = cfg.evictionThresholds.find((t) => t.signal === 'nodefs.available' && t.gracePeriodMs === 0);
  const val = (v: { quantity: number } | { percentage: number } | undefined) =>
    v === undefined ? undefined : 'quantity' in v ? { bytes: v.quantity } : { percentage: v.percentage };
  return {
    nodeName: cfg.nodeName,
    hostname: cfg.nodeName,
    nodeIPs: cfg.nodeIPs.length > 0 ? cfg.nodeIPs : undefined,
    maxPods: cfg.maxPods,
    podsPerCore: cfg.podsPerCore,
    kubeReserved: cfg.kubeReserved,
    systemReserved: cfg.systemReserved,
    evictionHard: { memoryAvailable: val(memHard?.value), nodefsAvailable: val(fsHard?.value) },
    nodeLabels: cfg.nodeLabels,
    registerWithTaints: cfg.registerWithTaints,
    providerID: cfg.providerID,
    kubeletPort: cfg.port,
    kubeletVersion: VERSION,
    maxImages: cfg.nodeStatusMaxImages,
  };
}

export async function main(argv: string[]): Promise<number> {
  let flags: ReturnType<typeof parseFlags>;
  let resolved: ReturnType<typeof resolveConfig>;
  try {
    flags = parseFlags(argv);
    if (flags.help) {
      process.stdout.write(usage());
      return 0;
    }
    if (flags.version) {
      process.stdout.write(`kubelet-ts ${VERSION}\n`);
      return 0;
    }
    resolved = resolveConfig(argv);
  } catch (err) {
    if (err instanceof FlagError || err instanceof ConfigError) {
      process.stderr.write(`kubelet-ts: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const cfg = resolved.config;
  const log = createLogger({ level: cfg.logLevel });
  for (const w of resolved.warnings) log.warn(w);
  if (cfg.staticPodPath) {
    log.warn(
      { staticPodPath: cfg.staticPodPath },
      'static pods are not supported yet: staticPodPath is ignored',
    );
  }
  if (!cfg.kubeconfig) {
    process.stderr.write('kubelet-ts: --kubeconfig is required (standalone mode is not supported)\n');
    return 2;
  }

  const ac = new AbortController();
  const { signal } = ac;
  // Every long-running loop (a dozen) listens on this one signal: that is not a leak.
  setMaxListeners(64, signal);
  const stop = (sig: string) => {
    if (signal.aborted) return;
    log.info({ signal: sig }, 'shutting down; pods keep running');
    ac.abort();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (cfg.bootstrapKubeconfig) {
    try {
      await untilReady(
        `a client certificate through TLS bootstrap (${cfg.bootstrapKubeconfig})`,
        () =>
          bootstrapClientCertificate({
            nodeName: cfg.nodeName,
            kubeconfigPath: cfg.kubeconfig ?? '',
            bootstrapKubeconfigPath: cfg.bootstrapKubeconfig ?? '',
            certDir: cfg.certDir,
            logger: log,
            signal,
          }),
        log,
        signal,
      );
    } catch (err) {
      if (signal.aborted) return 0;
      log.fatal({ err: (err as Error).message }, 'TLS bootstrap failed');
      return 1;
    }
  }
  let clientConfig: ClientConfig;
  try {
    clientConfig = loadKubeconfig(cfg.kubeconfig);
  } catch (err) {
    process.stderr.write(`kubelet-ts: ${(err as Error).message}\n`);
    return 2;
  }
  const rest = RestClient.fromClientConfig(clientConfig, {
    userAgent: `kubelet-ts/${VERSION} (linux) kubernetes/${VERSION}`,
    qps: cfg.kubeAPIQPS || 1e9,
    burst: cfg.kubeAPIBurst || 1e9,
  });
  const cri = new CriClient({
    endpoint: cfg.containerRuntimeEndpoint,
    logger: log,
    requestTimeoutMs: cfg.runtimeRequestTimeoutMs,
  });

  let facts: HostFacts;
  try {
    facts = await gatherHostFacts({ rootDir: cfg.rootDir });
    const runtime = await untilReady(
      `the container runtime at ${cfg.containerRuntimeEndpoint}`,
      () => cri.version({ timeoutMs: 5_000 }),
      log,
      signal,
    );
    if (runtime.runtimeApiVersion !== 'v1')
      throw new Error(`runtime API version ${runtime.runtimeApiVersion} is not supported (need v1)`);
    log.info({ runtime: `${runtime.runtimeName} ${runtime.runtimeVersion}` }, 'container runtime reachable');
    await untilReady(
      `the API server at ${rest.server}`,
      () => rest.get('/version', { timeoutMs: 5_000 }),
      log,
      signal,
    );
  } catch (err) {
    if (signal.aborted) return 0;
    log.fatal({ err: (err as Error).message }, 'startup failed');
    return 1;
  }

  // Events get their own connection pool and rate (eventRecordQPS/eventBurst, applied by the
  // recorder), as upstream gives them their own client: a burst of events must not eat the
  // budget of status patches.
  const eventRest = RestClient.fromClientConfig(clientConfig, {
    userAgent: `kubelet-ts/${VERSION} (linux) kubernetes/${VERSION}`,
    qps: 1e9,
    burst: 1e9,
  });
  const recorder = new KubeEventRecorder({
    sink: restEventSink(eventRest),
    nodeName: cfg.nodeName,
    qps: cfg.eventRecordQPS || 1e9,
    burst: cfg.eventBurst,
    log,
    signal,
  });
  const nodeConfig = nodeConfigFrom(cfg);
  const hostIPs = () => (cfg.nodeIPs.length > 0 ? cfg.nodeIPs : facts.addresses.slice(0, 1));

  let syncLoop: SyncLoop | undefined;
  let statusUpdater: NodeStatusUpdater | undefined;
  const pleg = new Pleg({ cri, logger: log, onEvent: (ev) => syncLoop?.onPlegEvent(ev) });
  const health = new RuntimeHealth(cri, { logger: log, onChange: () => statusUpdater?.updateNow() });
  await health.check(signal);

  const lookups = new ObjectLookups(rest);
  // Service-link variables (upstream serviceLister): one cluster-wide list+watch of Services.
  const serviceCache = new ServiceCache({ rest, logger: log });
  const tokens = new TokenManager(rest);
  const images = new ImageManager(cri, recorder, {
    maxParallelPulls: cfg.serializeImagePulls ? 1 : (cfg.maxParallelImagePulls ?? 10),
  });

  const initialStatus = () =>
    buildNodeStatus(undefined, {
      config: nodeConfig,
      facts,
      runtime: {
        name: health.current.runtimeName,
        version: health.current.version.replace(/^[^:]*:\/\//, ''),
      },
      health: { ready: true, message: '' },
      pressure: { memory: false, disk: false, pid: false },
      now: Date.now(),
    }).status;
  const alloc = initialStatus().allocatable ?? {};
  const allocatable = {
    cpuMillis: cpuToMillis(alloc.cpu ?? '0'),
    memoryBytes: memoryToBytes(alloc.memory ?? '0'),
    ephemeralBytes: memoryToBytes(alloc['ephemeral-storage'] ?? '0'),
    pods: Number(alloc.pods ?? cfg.maxPods),
  };
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
      log.warn({ err: (err as Error).message, resolvConf: cfg.resolvConf }, 'cannot read resolvConf');
    }
  }

  // ---- cgroup v2 QoS hierarchy (issue #8): kubepods / burstable / besteffort / pod<uid> ----
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
    log.fatal({ err: (err as Error).message }, 'cgroup setup failed');
    return 1;
  }
  log.info({ mode: cgroupHost.mode, driver: cfg.cgroupDriver, enabled: cgroups.enabled }, 'cgroups');

  const probeManager = new ProbeManager({
    exec: cri,
    events: recorder,
    podStatus: (uid) => statusManager.getPodStatus(uid),
    onChange: (uid) => syncLoop?.syncSoon(uid),
    logger: log,
  });
  const actuated = new ActuatedState(cfg.rootDir, log);
  await actuated.load();
  const syncer = new PodSyncer({
    actuated,
    cri,
    images,
    volumes,
    events: recorder,
    envLookup: {
      configMap: (n, name) => lookups.configMap(n, name),
      secret: (n, name) => lookups.secret(n, name),
      services: async (namespace) => serviceCache.forNamespace(namespace),
    },
    hostIPs,
    criLimiter: new Semaphore(Number(process.env.KUBELET_TS_CRI_CONCURRENCY) || 4),
    probes: { liveness: probeManager.liveness, startup: probeManager.startup },
    hooks: new LifecycleHandlerRunner({ exec: cri, events: recorder }),
    config: {
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
    logger: log,
  });
  const statusManager = new StatusManager({
    client: rest,
    log,
    // A terminal phase may be reported once the pod's worker stopped all its containers.
    couldHaveRunningContainers: (uid) => {
      const st = syncLoop?.workers.state(uid);
      return st === 'sync' || st === 'terminating';
    },
  });
  // Safe sysctls can always be used as unsafe ones: one allowlist (upstream NewMainKubelet).
  const sysctlAllowlist = newSysctlAllowlist([
    ...safeSysctlAllowlist(facts.kernelVersion),
    ...cfg.allowedUnsafeSysctls,
  ]);
  syncLoop = new SyncLoop({
    nodeName: cfg.nodeName,
    cri,
    pleg,
    syncer,
    images,
    volumes,
    statusManager,
    events: recorder,
    runtimeName: () => health.current.runtimeName || 'containerd',
    hostIPs,
    admissionNode: (): AdmissionNode => ({
      name: cfg.nodeName,
      labels: nodeLabels,
      allocatable,
      pressure: eviction.nodeConditions(),
      os: 'linux',
      sysctls: sysctlAllowlist,
    }),
    probes: probeManager,
    cgroups: cgroups.enabled ? cgroups : undefined,
    logger: log,
    resyncMs: cfg.syncFrequencyMs,
  });

  // ---- node-pressure eviction (issue #8) ----
  const podActive = (uid: string) => {
    const st = syncLoop?.workers.state(uid);
    return st === 'sync' || st === 'terminating';
  };
  cgroups.setActivePods(() => syncLoop?.activePods() ?? []);
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
  const eviction = new EvictionManager({
    nodeName: cfg.nodeName,
    thresholds: cfg.evictionThresholds,
    pressureTransitionPeriodMs: cfg.evictionPressureTransitionPeriodMs,
    maxPodGracePeriodSeconds: cfg.evictionMaxPodGracePeriodSeconds,
    stats: evictionStats,
    activePods: () => syncLoop?.activePods() ?? [],
    killPod: (pod, kill) => syncLoop?.killPod(pod.metadata?.uid ?? '', kill),
    podCleanedUp: (uid) => !podActive(uid),
    events: recorder,
    reclaim: new NodeReclaimer({
      cri,
      podIsActive: podActive,
      protectedImages: () => {
        sandboxImages ??= runtimeSandboxImage(cri).catch(() => []);
        return sandboxImages;
      },
      imageMinimumGCAgeMs: cfg.imageMinimumGCAgeMs,
      logger: log,
    }),
    onPressureChange: () => statusUpdater?.updateNow(),
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

  const runtimeHealth = () => {
    const h = health.current;
    const p = pleg.healthy();
    const msgs = [
      h.runtimeReady ? '' : h.runtimeMessage,
      h.networkReady ? '' : h.networkMessage,
      p.ok ? '' : `PLEG is not healthy: ${p.message}`,
    ];
    const bad = msgs.filter(Boolean);
    return { ready: bad.length === 0, message: bad.join(', ') };
  };
  let nodeLabels: Record<string, string> = {};
  const node = await registerNode({
    client: rest,
    build: () =>
      buildInitialNode({
        config: nodeConfig,
        facts,
        runtime: {
          name: health.current.runtimeName,
          version: health.current.version.replace(/^[^:]*:\/\//, ''),
        },
        health: runtimeHealth(),
        pressure: { memory: false, disk: false, pid: false },
        now: Date.now(),
      }),
    recorder,
    log,
    signal,
  }).catch((err) => {
    if (!signal.aborted) log.fatal({ err: (err as Error).message }, 'node registration failed');
    return undefined;
  });
  if (!node) return signal.aborted ? 0 : 1;
  nodeLabels = node.metadata?.labels ?? {};
  log.info({ node: cfg.nodeName, uid: node.metadata?.uid }, 'node registered');

  statusUpdater = new NodeStatusUpdater({
    client: rest,
    config: nodeConfig,
    facts: () => facts,
    runtime: () => ({
      name: health.current.runtimeName,
      version: health.current.version.replace(/^[^:]*:\/\//, ''),
    }),
    runtimeHealth,
    pressure: () => eviction.pressure(),
    images: async () =>
      (await cri.listImages()).map((i) => ({
        names: [...i.repoDigests, ...i.repoTags],
        sizeBytes: Number(i.size),
        id: i.id,
      })),
    recorder,
    log,
    updateFrequencyMs: cfg.nodeStatusUpdateFrequencyMs,
    reportFrequencyMs: cfg.nodeStatusReportFrequencyMs,
  });
  const lease = new NodeLeaseController({
    client: rest,
    nodeName: cfg.nodeName,
    nodeUid: node.metadata?.uid,
    leaseDurationSeconds: cfg.nodeLeaseDurationSeconds,
    log,
  });
  const podSource = new PodSource({
    rest,
    nodeName: cfg.nodeName,
    logger: log,
    handler: {
      onSnapshot: (pods) => syncLoop?.podConfig.snapshot(pods),
      onUpsert: (pod) => syncLoop?.podConfig.upsert(pod),
      onDelete: (pod) => syncLoop?.podConfig.delete(pod),
    },
  });
  const healthz =
    cfg.healthzPort > 0
      ? startHealthz(
          cfg.healthzBindAddress,
          cfg.healthzPort,
          () =>
            runtimeHealth().ready
              ? { ok: true, message: '' }
              : { ok: false, message: runtimeHealth().message },
          log,
        )
      : undefined;

  // ---- kubelet HTTPS API (:10250) ----
  let server: KubeletServer | undefined;
  if (cfg.enableServer) {
    const metrics = new KubeletMetrics(cfg.nodeName, () => {
      let pods = 0;
      let running = 0;
      let total = 0;
      for (const p of pleg.runtimePods().values()) {
        if (p.readySandboxes > 0) pods++;
        running += p.runningContainers;
        total += p.containerIds.length;
      }
      return { pods, running, exited: total - running };
    });
    const auth = new KubeletAuth({
      rest,
      anonymous: cfg.authentication.anonymous.enabled,
      x509: cfg.authentication.x509.clientCAFile !== '',
      webhookAuthn: cfg.authentication.webhook.enabled,
      authnCacheTtlMs: cfg.authentication.webhook.cacheTTLMs,
      authorizationMode: cfg.authorization.mode,
      allowTtlMs: cfg.authorization.webhook.cacheAuthorizedTTLMs,
      denyTtlMs: cfg.authorization.webhook.cacheUnauthorizedTTLMs,
    });
    const loop = syncLoop;
    const tls = await servingCert(
      cfg.tlsCertFile,
      cfg.tlsPrivateKeyFile,
      cfg.certDir,
      cfg.nodeName,
      hostIPs(),
    );
    server = new KubeletServer({
      address: cfg.address,
      port: cfg.port,
      cert: tls.cert,
      key: tls.key,
      clientCA: cfg.authentication.x509.clientCAFile
        ? readFileSync(cfg.authentication.x509.clientCAFile)
        : undefined,
      nodeName: cfg.nodeName,
      auth,
      cri,
      metrics,
      log,
      enableDebuggingHandlers: cfg.enableDebuggingHandlers,
      stats: new StatsProvider({
        nodeName: cfg.nodeName,
        nodeStartTime: new Date(Date.now() - process.uptime() * 1000).toISOString(),
        cri,
        pods: () => loop.podConfig.all(),
        nodeUsage,
        rootFs: () => fsUsage(cfg.rootDir),
      }),
      pods: {
        list: () => loop.podConfig.all(),
        find: (ns, name, uid) =>
          loop.podConfig
            .all()
            .find(
              (p) =>
                p.metadata?.namespace === ns &&
                p.metadata?.name === name &&
                (!uid || p.metadata?.uid === uid),
            ),
        containers: async (uid) => (await inspectPod(cri, uid, loop.runtimeStatus(uid))).containers,
      },
    });
    try {
      await server.listen();
    } catch (err) {
      log.fatal(
        { err: (err as Error).message, address: cfg.address, port: cfg.port },
        'cannot serve the kubelet API',
      );
      ac.abort();
      return 1;
    }
    log.info({ address: cfg.address, port: cfg.port }, 'kubelet API listening');
  }

  const logRotator = new LogRotator({
    cri,
    maxSizeBytes: cfg.containerLogMaxSizeBytes,
    maxFiles: cfg.containerLogMaxFiles,
    logger: log,
  });

  const tasks = [
    logRotator.run(signal),
    health.run(signal),
    pleg.run(signal),
    statusManager.run(signal),
    statusUpdater.run(signal),
    lease.run(signal),
    podSource.run(signal),
    serviceCache.run(signal),
    syncLoop.run(signal),
    eviction.run(signal),
    pressureMonitor.run(signal),
    cgroups.run(signal),
  ];
  log.info(
    { node: cfg.nodeName, endpoint: cfg.containerRuntimeEndpoint, api: rest.server },
    'kubelet-ts started',
  );
  await Promise.allSettled(tasks);
  probeManager.stop();
  healthz?.close();
  server?.close();
  await recorder.flush?.().catch(() => {});
  cri.close();
  rest.close();
  eventRest.close();
  log.info('stopped');
  log.flush();
  return 0;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain || process.env.KUBELET_TS_MAIN === '1') {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`kubelet-ts: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
