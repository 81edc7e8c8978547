/**
 * KubeletConfiguration (kubelet.config.k8s.io/v1beta1) as written in the config file: the subset
 * of upstream fields kubelet-ts implements now or soon, with upstream's camelCase names. Every
 * field is optional; durations are Go duration strings and quantities are quantity strings here.
 * Defaults and conversion to convenient units happen in resolve.ts.
 */

export const KUBELET_CONFIG_API_VERSION = 'kubelet.config.k8s.io/v1beta1';
export const KUBELET_CONFIG_KIND = 'KubeletConfiguration';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

/** core/v1 Taint as accepted in `registerWithTaints` (timeAdded must not be set). */
export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface KubeletConfiguration {
  apiVersion?: string;
  kind?: string;

  enableServer?: boolean;
  address?: string;
  port?: number;
  readOnlyPort?: number;
  healthzBindAddress?: string;
  healthzPort?: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsMinVersion?: string;
  tlsCipherSuites?: string[];
  rotateCertificates?: boolean;
  serverTLSBootstrap?: boolean;
  authentication?: {
    anonymous?: { enabled?: boolean };
    webhook?: { enabled?: boolean; cacheTTL?: string };
    x509?: { clientCAFile?: string };
  };
  authorization?: {
    mode?: string;
    webhook?: { cacheAuthorizedTTL?: string; cacheUnauthorizedTTL?: string };
  };
  enableDebuggingHandlers?: boolean;

  syncFrequency?: string;
  fileCheckFrequency?: string;
  staticPodPath?: string;
  httpCheckFrequency?: string;
  staticPodURL?: string;
  staticPodURLHeader?: Record<string, string[]>;

  nodeStatusUpdateFrequency?: string;
  nodeStatusReportFrequency?: string;
  nodeLeaseDurationSeconds?: number;
  registerNode?: boolean;
  registerWithTaints?: Taint[];
  /**
   * kubelet-ts extension: upstream has only the --node-labels flag, not a config field. Upstream
   * would warn about this field as unknown.
   */
  nodeLabels?: Record<string, string>;
  nodeStatusMaxImages?: number;
  providerID?: string;

  maxPods?: number;
  podsPerCore?: number;
  podPidsLimit?: number;
  allowedUnsafeSysctls?: string[];

  clusterDNS?: string[];
  clusterDomain?: string;
  resolvConf?: string;

  cgroupDriver?: string;
  cgroupsPerQOS?: boolean;
  cgroupRoot?: string;
  cpuCFSQuota?: boolean;
  cpuCFSQuotaPeriod?: string;
  singleProcessOOMKill?: boolean;
  failSwapOn?: boolean;
  failCgroupV1?: boolean;
  memorySwap?: { swapBehavior?: string };

  kubeReserved?: Record<string, string>;
  systemReserved?: Record<string, string>;
  enforceNodeAllocatable?: string[];

  evictionHard?: Record<string, string>;
  evictionSoft?: Record<string, string>;
  evictionSoftGracePeriod?: Record<string, string>;
  evictionMinimumReclaim?: Record<string, string>;
  evictionPressureTransitionPeriod?: string;
  evictionMaxPodGracePeriod?: number;
  mergeDefaultEvictionSettings?: boolean;

  imageGCHighThresholdPercent?: number;
  imageGCLowThresholdPercent?: number;
  imageMinimumGCAge?: string;
  serializeImagePulls?: boolean;
  maxParallelImagePulls?: number;

  containerLogMaxSize?: string;
  containerLogMaxFiles?: number;
  podLogsDir?: string;

  containerRuntimeEndpoint?: string;
  runtimeRequestTimeout?: string;

  eventRecordQPS?: number;
  eventBurst?: number;
  kubeAPIQPS?: number;
  kubeAPIBurst?: number;

  shutdownGracePeriod?: string;
  crashLoopBackOff?: { maxContainerRestartPeriod?: string };
  localStorageCapacityIsolation?: boolean;
  seccompDefault?: boolean;
}
