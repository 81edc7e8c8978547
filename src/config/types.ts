import type { Taint } from './kubeletConfig.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const EVICTION_SIGNALS = [
  'memory.available',
  'allocatableMemory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'containerfs.available',
  'containerfs.inodesFree',
  'pid.available',
] as const;

export type EvictionSignal = (typeof EVICTION_SIGNALS)[number];

/**
 * A threshold amount: an absolute quantity in the signal's unit (bytes, inodes, pids), or a
 * fraction of capacity in (0, 1) — upstream's `ThresholdValue.Percentage` is a fraction too.
 */
export type ThresholdValue = { quantity: number } | { percentage: number };

/** A parsed eviction threshold (upstream evictionapi.Threshold). */
export interface EvictionThreshold {
  signal: EvictionSignal;
  operator: 'LessThan';
  value: ThresholdValue;
  /** 0 for hard thresholds; > 0 for soft ones. */
  gracePeriodMs: number;
  minReclaim?: ThresholdValue;
}

/** Resources reserved from node allocatable (kubeReserved / systemReserved). */
export interface ReservedResources {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  pids: number;
}

/**
 * The kubelet's effective configuration: command line + config file + upstream defaults,
 * validated, with durations in milliseconds, sizes in bytes and CPU in millicores.
 */
export interface ResolvedConfig {
  // From the command line only.
  /** Lower-cased --hostname-override, or the host's hostname. */
  nodeName: string;
  kubeconfig: string | undefined;
  bootstrapKubeconfig: string | undefined;
  configFile: string | undefined;
  rootDir: string;
  certDir: string;
  /** --node-ip: up to one IP per family; empty means auto-detect. */
  nodeIPs: string[];
  logLevel: LogLevel;
  /** Sandbox/container create and start calls in flight at once (--cri-concurrency). */
  criConcurrency: number;

  // Server.
  enableServer: boolean;
  address: string;
  port: number;
  /** 0 = disabled. */
  readOnlyPort: number;
  healthzBindAddress: string;
  /** 0 = disabled. */
  healthzPort: number;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** '' = TLS 1.2 (Go's default). */
  tlsMinVersion: string;
  /** Go crypto/tls names; [] = the defaults. */
  tlsCipherSuites: string[];
  rotateCertificates: boolean;
  serverTLSBootstrap: boolean;
  authentication: {
    anonymous: { enabled: boolean };
    webhook: { enabled: boolean; cacheTTLMs: number };
    x509: { clientCAFile: string };
  };
  authorization: {
    mode: 'AlwaysAllow' | 'Webhook';
    webhook: { cacheAuthorizedTTLMs: number; cacheUnauthorizedTTLMs: number };
  };
  enableDebuggingHandlers: boolean;

  // Pod sources and sync.
  syncFrequencyMs: number;
  fileCheckFrequencyMs: number;
  /** '' = no static pods. */
  staticPodPath: string;
  httpCheckFrequencyMs: number;
  /** '' = no static pods from a URL. */
  staticPodURL: string;
  staticPodURLHeader: Record<string, string[]>;

  // Node object, status and lease.
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
  registerNode: boolean;
  registerWithTaints: Taint[];
  nodeLabels: Record<string, string>;
  /** -1 = no cap. */
  nodeStatusMaxImages: number;
  providerID: string;

  // Pods.
  maxPods: number;
  /** 0 = no per-core limit. */
  podsPerCore: number;
  /** -1 = no per-pod limit (node allocatable only). */
  podPidsLimit: number;
  /** Sysctl names or patterns ending in `*` allowed beyond the safe set (admission, SysctlForbidden). */
  allowedUnsafeSysctls: string[];

  // DNS.
  clusterDNS: string[];
  clusterDomain: string;
  /** '' = no host resolv.conf as the base for pod DNS. */
  resolvConf: string;

  // Cgroups and host checks.
  cgroupDriver: 'cgroupfs' | 'systemd';
  cgroupsPerQOS: boolean;
  cgroupRoot: string;
  cpuCFSQuota: boolean;
  cpuCFSQuotaPeriodMs: number;
  singleProcessOOMKill: boolean;
  failSwapOn: boolean;
  failCgroupV1: boolean;
  memorySwapBehavior: 'NoSwap' | 'LimitedSwap';

  // Node allocatable and eviction.
  kubeReserved: ReservedResources;
  systemReserved: ReservedResources;
  enforceNodeAllocatable: string[];
  /** Hard thresholds (gracePeriodMs 0) then soft ones, as upstream's ParseThresholdConfig returns them. */
  evictionThresholds: EvictionThreshold[];
  evictionPressureTransitionPeriodMs: number;
  evictionMaxPodGracePeriodSeconds: number;

  // Images.
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  imageMinimumGCAgeMs: number;
  serializeImagePulls: boolean;
  /** undefined = no limit. */
  maxParallelImagePulls: number | undefined;

  // Logs.
  containerLogMaxSizeBytes: number;
  containerLogMaxFiles: number;
  podLogsDir: string;

  // Runtime.
  containerRuntimeEndpoint: string;
  runtimeRequestTimeoutMs: number;

  // API client and events.
  /** 0 = unlimited. */
  eventRecordQPS: number;
  eventBurst: number;
  /** 0 = unlimited. */
  kubeAPIQPS: number;
  kubeAPIBurst: number;

  // Lifecycle.
  /** 0 = graceful node shutdown disabled. */
  shutdownGracePeriodMs: number;
  crashLoopBackOffMaxContainerRestartPeriodMs: number;
  localStorageCapacityIsolation: boolean;
  seccompDefault: boolean;
}
