import type { KubeletConfiguration, Taint } from './kubeletConfig.js';

/** How a map field's entries are checked: free-form, reserved resources, or one of the eviction maps. */
export type MapSpec =
  | 'stringMap'
  | 'stringListMap'
  | 'resourceMap'
  | 'thresholdMap'
  | 'graceMap'
  | 'reclaimMap';

type SpecFor<V> = [V] extends [string]
  ? 'string' | 'duration' | 'quantity'
  : [V] extends [number]
    ? 'int' | 'float'
    : [V] extends [boolean]
      ? 'bool'
      : [V] extends [string[]]
        ? 'stringList'
        : [V] extends [Taint[]]
          ? 'taints'
          : string extends keyof V
            ? MapSpec
            : { readonly fields: SchemaOf<V> };

/** One spec per field of T, checked by the compiler against T's field types. */
export type SchemaOf<T> = { readonly [K in keyof T]-?: SpecFor<NonNullable<T[K]>> };

export type FieldSpec =
  | 'string'
  | 'duration'
  | 'quantity'
  | 'int'
  | 'float'
  | 'bool'
  | 'stringList'
  | 'taints'
  | MapSpec
  | { readonly fields: Readonly<Record<string, FieldSpec>> };

/** The accepted fields of the config file and how each is parsed. */
export const KUBELET_CONFIG_SCHEMA: SchemaOf<KubeletConfiguration> = {
  apiVersion: 'string',
  kind: 'string',
  enableServer: 'bool',
  address: 'string',
  port: 'int',
  readOnlyPort: 'int',
  healthzBindAddress: 'string',
  healthzPort: 'int',
  tlsCertFile: 'string',
  tlsPrivateKeyFile: 'string',
  tlsMinVersion: 'string',
  tlsCipherSuites: 'stringList',
  rotateCertificates: 'bool',
  serverTLSBootstrap: 'bool',
  authentication: {
    fields: {
      anonymous: { fields: { enabled: 'bool' } },
      webhook: { fields: { enabled: 'bool', cacheTTL: 'duration' } },
      x509: { fields: { clientCAFile: 'string' } },
    },
  },
  authorization: {
    fields: {
      mode: 'string',
      webhook: { fields: { cacheAuthorizedTTL: 'duration', cacheUnauthorizedTTL: 'duration' } },
    },
  },
  enableDebuggingHandlers: 'bool',
  syncFrequency: 'duration',
  fileCheckFrequency: 'duration',
  staticPodPath: 'string',
  httpCheckFrequency: 'duration',
  staticPodURL: 'string',
  staticPodURLHeader: 'stringListMap',
  nodeStatusUpdateFrequency: 'duration',
  nodeStatusReportFrequency: 'duration',
  nodeLeaseDurationSeconds: 'int',
  registerNode: 'bool',
  registerWithTaints: 'taints',
  nodeLabels: 'stringMap',
  nodeStatusMaxImages: 'int',
  providerID: 'string',
  maxPods: 'int',
  podsPerCore: 'int',
  podPidsLimit: 'int',
  clusterDNS: 'stringList',
  allowedUnsafeSysctls: 'stringList',
  clusterDomain: 'string',
  resolvConf: 'string',
  cgroupDriver: 'string',
  cgroupsPerQOS: 'bool',
  cgroupRoot: 'string',
  cpuCFSQuota: 'bool',
  cpuCFSQuotaPeriod: 'duration',
  singleProcessOOMKill: 'bool',
  failSwapOn: 'bool',
  failCgroupV1: 'bool',
  memorySwap: { fields: { swapBehavior: 'string' } },
  kubeReserved: 'resourceMap',
  systemReserved: 'resourceMap',
  enforceNodeAllocatable: 'stringList',
  evictionHard: 'thresholdMap',
  evictionSoft: 'thresholdMap',
  evictionSoftGracePeriod: 'graceMap',
  evictionMinimumReclaim: 'reclaimMap',
  evictionPressureTransitionPeriod: 'duration',
  evictionMaxPodGracePeriod: 'int',
  mergeDefaultEvictionSettings: 'bool',
  imageGCHighThresholdPercent: 'int',
  imageGCLowThresholdPercent: 'int',
  imageMinimumGCAge: 'duration',
  serializeImagePulls: 'bool',
  maxParallelImagePulls: 'int',
  containerLogMaxSize: 'quantity',
  containerLogMaxFiles: 'int',
  podLogsDir: 'string',
  containerRuntimeEndpoint: 'string',
  runtimeRequestTimeout: 'duration',
  eventRecordQPS: 'int',
  eventBurst: 'int',
  kubeAPIQPS: 'int',
  kubeAPIBurst: 'int',
  shutdownGracePeriod: 'duration',
  crashLoopBackOff: { fields: { maxContainerRestartPeriod: 'duration' } },
  localStorageCapacityIsolation: 'bool',
  seccompDefault: 'bool',
};

/**
 * Upstream v1beta1 fields kubelet-ts does not implement. They are legal in a real kubelet config
 * (kubeadm writes several), so they get a softer warning than a misspelt field.
 */
export const UPSTREAM_ONLY_FIELDS: ReadonlySet<string> = new Set([
  'configMapAndSecretChangeDetectionStrategy',
  'containerLogMaxWorkers',
  'containerLogMonitorInterval',
  'contentType',
  'cpuManagerPolicy',
  'cpuManagerPolicyOptions',
  'cpuManagerReconcilePeriod',
  'draManagerReconcilePeriod',
  'enableContentionProfiling',
  'enableControllerAttachDetach',
  'enableDebugFlagsHandler',
  'enableProfilingHandler',
  'enableSystemLogHandler',
  'enableSystemLogQuery',
  'featureGates',
  'hairpinMode',
  'imageMaximumGCAge',
  'imagePullCredentialsVerificationPolicy',
  'imageServiceEndpoint',
  'iptablesDropBit',
  'iptablesMasqueradeBit',
  'kernelMemcgNotification',
  'kubeReservedCgroup',
  'kubeletCgroups',
  'logging',
  'makeIPTablesUtilChains',
  'maxOpenFiles',
  'memoryManagerPolicy',
  'memoryReservationPolicy',
  'memoryThrottlingFactor',
  'oomScoreAdj',
  'podCIDR',
  'podHousekeepingPeriod',
  'preloadedImagesVerificationAllowlist',
  'protectKernelDefaults',
  'qosReserved',
  'registryBurst',
  'registryPullQPS',
  'reservedMemory',
  'reservedSystemCPUs',
  'runOnce',
  'showHiddenMetricsForVersion',
  'shutdownGracePeriodByPodPriority',
  'shutdownGracePeriodCriticalPods',
  'streamingConnectionIdleTimeout',
  'systemCgroups',
  'systemReservedCgroup',
  'tlsCurvePreferences',
  'topologyManagerPolicy',
  'topologyManagerPolicyOptions',
  'topologyManagerScope',
  'tracing',
  'userNamespaces',
  'volumePluginDir',
  'volumeStatsAggPeriod',
]);
