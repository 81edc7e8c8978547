/**
 * Defaults and unit conversion: KubeletConfiguration (as written) → ResolvedConfig. The defaults
 * mirror upstream's SetDefaults_KubeletConfiguration (pkg/kubelet/apis/config/v1beta1/defaults.go),
 * including its quirk that a zero duration or count means "unset" for many fields (kubeadm writes
 * `syncFrequency: 0s` and expects the default).
 */
import { parseDuration } from '../util/duration.js';
import { errorMessage } from '../util/errors.js';
import { memoryToBytes } from '../util/quantity.js';
import type { ConfigIssue } from './errors.js';
import { buildEvictionThresholds } from './eviction.js';
import type { KubeletConfiguration } from './kubeletConfig.js';
import { parseReservedResources } from './reserved.js';
import type { ReservedResources, ResolvedConfig } from './types.js';

/** The settings that exist only on the command line (not in KubeletConfiguration). */
export type CommandLineSettings = Pick<
  ResolvedConfig,
  | 'nodeName'
  | 'kubeconfig'
  | 'bootstrapKubeconfig'
  | 'configFile'
  | 'rootDir'
  | 'certDir'
  | 'nodeIPs'
  | 'logLevel'
  | 'criConcurrency'
>;

export const DEFAULT_CONTAINER_RUNTIME_ENDPOINT = 'unix:///run/containerd/containerd.sock';
export const DEFAULT_POD_LOGS_DIR = '/var/log/pods';
export const DEFAULT_RESOLV_CONF = '/etc/resolv.conf';
export const DEFAULT_MAX_CONTAINER_RESTART_PERIOD_MS = 300_000;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const NO_RESERVATION: ReservedResources = { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0, pids: 0 };

class Converter {
  readonly issues: ConfigIssue[] = [];

  /** Duration in ms; `zeroIsUnset` mirrors upstream fields defaulted when `== zeroDuration`. */
  ms(path: string, value: string | undefined, defaultMs: number, zeroIsUnset = true): number {
    if (value === undefined) return defaultMs;
    try {
      const ms = parseDuration(value);
      return ms === 0 && zeroIsUnset ? defaultMs : ms;
    } catch (e) {
      this.issues.push({ path, value, message: errorMessage(e) });
      return defaultMs;
    }
  }

  bytes(path: string, value: string | undefined, defaultValue: string): number {
    const text = value === undefined || value === '' ? defaultValue : value;
    try {
      return memoryToBytes(text);
    } catch (e) {
      this.issues.push({ path, value, message: errorMessage(e) });
      return memoryToBytes(defaultValue);
    }
  }

  reserved(path: string, map: Record<string, string> | undefined): ReservedResources {
    try {
      return parseReservedResources(map);
    } catch (e) {
      this.issues.push({ path, value: map, message: errorMessage(e) });
      return NO_RESERVATION;
    }
  }

  oneOf<T extends string>(path: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
    if (value === undefined || value === '') return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.issues.push({
      path,
      value,
      message: `${JSON.stringify(value)} must be one of: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
    });
    return fallback;
  }
}

/** Like Go's `if obj.X == 0 { obj.X = d }`. */
const orIfZero = (value: number | undefined, d: number): number =>
  value === undefined || value === 0 ? d : value;
const orIfEmpty = (value: string | undefined, d: string): string =>
  value === undefined || value === '' ? d : value;

/**
 * Applies upstream defaults and converts units. Does not validate ranges (see validate.ts), but
 * reports values it cannot convert or enumerations outside their allowed set.
 */
export function applyDefaults(
  cfg: KubeletConfiguration,
  commandLine: CommandLineSettings,
): { config: ResolvedConfig; issues: ConfigIssue[] } {
  const c = new Converter();
  const authn = cfg.authentication;
  const authz = cfg.authorization;

  const updateMs = c.ms('nodeStatusUpdateFrequency', cfg.nodeStatusUpdateFrequency, 10 * SECOND);
  // Upstream: the report frequency follows an explicitly set update frequency (backward compatibility).
  const updateSet =
    cfg.nodeStatusUpdateFrequency !== undefined && isNonZeroDuration(cfg.nodeStatusUpdateFrequency);
  const reportDefault = updateSet ? updateMs : 5 * MINUTE;

  const enforceNodeAllocatable = cfg.enforceNodeAllocatable ?? ['pods'];
  const eviction = buildEvictionThresholds({ ...cfg, enforceNodeAllocatable });
  c.issues.push(...eviction.issues);

  const maxParallelImagePulls = cfg.maxParallelImagePulls;
  const config: ResolvedConfig = {
    ...commandLine,

    enableServer: cfg.enableServer ?? true,
    address: orIfEmpty(cfg.address, '0.0.0.0'),
    port: orIfZero(cfg.port, 10250),
    readOnlyPort: cfg.readOnlyPort ?? 0,
    healthzBindAddress: orIfEmpty(cfg.healthzBindAddress, '127.0.0.1'),
    healthzPort: cfg.healthzPort ?? 10248,
    tlsCertFile: cfg.tlsCertFile ?? '',
    tlsPrivateKeyFile: cfg.tlsPrivateKeyFile ?? '',
    tlsMinVersion: cfg.tlsMinVersion ?? '',
    tlsCipherSuites: cfg.tlsCipherSuites ?? [],
    rotateCertificates: cfg.rotateCertificates ?? false,
    serverTLSBootstrap: cfg.serverTLSBootstrap ?? false,
    authentication: {
      anonymous: { enabled: authn?.anonymous?.enabled ?? false },
      webhook: {
        enabled: authn?.webhook?.enabled ?? true,
        cacheTTLMs: c.ms('authentication.webhook.cacheTTL', authn?.webhook?.cacheTTL, 2 * MINUTE),
      },
      x509: { clientCAFile: authn?.x509?.clientCAFile ?? '' },
    },
    authorization: {
      mode: c.oneOf('authorization.mode', authz?.mode, ['AlwaysAllow', 'Webhook'] as const, 'Webhook'),
      webhook: {
        cacheAuthorizedTTLMs: c.ms(
          'authorization.webhook.cacheAuthorizedTTL',
          authz?.webhook?.cacheAuthorizedTTL,
          5 * MINUTE,
        ),
        cacheUnauthorizedTTLMs: c.ms(
          'authorization.webhook.cacheUnauthorizedTTL',
          authz?.webhook?.cacheUnauthorizedTTL,
          30 * SECOND,
        ),
      },
    },
    enableDebuggingHandlers: cfg.enableDebuggingHandlers ?? true,

    syncFrequencyMs: c.ms('syncFrequency', cfg.syncFrequency, MINUTE),
    fileCheckFrequencyMs: c.ms('fileCheckFrequency', cfg.fileCheckFrequency, 20 * SECOND),
    staticPodPath: cfg.staticPodPath ?? '',
    httpCheckFrequencyMs: c.ms('httpCheckFrequency', cfg.httpCheckFrequency, 20 * SECOND),
    staticPodURL: cfg.staticPodURL ?? '',
    staticPodURLHeader: cfg.staticPodURLHeader ?? {},

    nodeStatusUpdateFrequencyMs: updateMs,
    nodeStatusReportFrequencyMs: c.ms(
      'nodeStatusReportFrequency',
      cfg.nodeStatusReportFrequency,
      reportDefault,
    ),
    nodeLeaseDurationSeconds: orIfZero(cfg.nodeLeaseDurationSeconds, 40),
    registerNode: cfg.registerNode ?? true,
    registerWithTaints: cfg.registerWithTaints ?? [],
    nodeLabels: cfg.nodeLabels ?? {},
    nodeStatusMaxImages: cfg.nodeStatusMaxImages ?? 50,
    providerID: cfg.providerID ?? '',

    maxPods: orIfZero(cfg.maxPods, 110),
    podsPerCore: cfg.podsPerCore ?? 0,
    podPidsLimit: cfg.podPidsLimit === undefined || cfg.podPidsLimit < 0 ? -1 : cfg.podPidsLimit,
    allowedUnsafeSysctls: cfg.allowedUnsafeSysctls ?? [],

    clusterDNS: cfg.clusterDNS ?? [],
    clusterDomain: cfg.clusterDomain ?? '',
    resolvConf: cfg.resolvConf ?? DEFAULT_RESOLV_CONF,

    cgroupDriver: c.oneOf('cgroupDriver', cfg.cgroupDriver, ['cgroupfs', 'systemd'] as const, 'cgroupfs'),
    cgroupsPerQOS: cfg.cgroupsPerQOS ?? true,
    cgroupRoot: cfg.cgroupRoot ?? '',
    cpuCFSQuota: cfg.cpuCFSQuota ?? true,
    // A pointer upstream: only absent means default, an explicit 0s is kept (and rejected by validation).
    cpuCFSQuotaPeriodMs: c.ms('cpuCFSQuotaPeriod', cfg.cpuCFSQuotaPeriod, 100, false),
    singleProcessOOMKill: cfg.singleProcessOOMKill ?? false,
    failSwapOn: cfg.failSwapOn ?? true,
    // Upstream flipped this default to true in 1.35 (cgroup v1 is no longer supported by default).
    failCgroupV1: cfg.failCgroupV1 ?? true,
    memorySwapBehavior: c.oneOf(
      'memorySwap.swapBehavior',
      cfg.memorySwap?.swapBehavior,
      ['NoSwap', 'LimitedSwap'] as const,
      'NoSwap',
    ),

    kubeReserved: c.reserved('kubeReserved', cfg.kubeReserved),
    systemReserved: c.reserved('systemReserved', cfg.systemReserved),
    enforceNodeAllocatable,
    evictionThresholds: eviction.thresholds,
    evictionPressureTransitionPeriodMs: c.ms(
      'evictionPressureTransitionPeriod',
      cfg.evictionPressureTransitionPeriod,
      5 * MINUTE,
    ),
    evictionMaxPodGracePeriodSeconds: cfg.evictionMaxPodGracePeriod ?? 0,

    imageGCHighThresholdPercent: cfg.imageGCHighThresholdPercent ?? 85,
    imageGCLowThresholdPercent: cfg.imageGCLowThresholdPercent ?? 80,
    imageMinimumGCAgeMs: c.ms('imageMinimumGCAge', cfg.imageMinimumGCAge, 2 * MINUTE),
    serializeImagePulls:
      cfg.serializeImagePulls ?? (maxParallelImagePulls === undefined || maxParallelImagePulls < 2),
    maxParallelImagePulls,

    containerLogMaxSizeBytes: c.bytes('containerLogMaxSize', cfg.containerLogMaxSize, '10Mi'),
    containerLogMaxFiles: cfg.containerLogMaxFiles ?? 5,
    podLogsDir: orIfEmpty(cfg.podLogsDir, DEFAULT_POD_LOGS_DIR),

    containerRuntimeEndpoint: orIfEmpty(cfg.containerRuntimeEndpoint, DEFAULT_CONTAINER_RUNTIME_ENDPOINT),
    runtimeRequestTimeoutMs: c.ms('runtimeRequestTimeout', cfg.runtimeRequestTimeout, 2 * MINUTE),

    eventRecordQPS: cfg.eventRecordQPS ?? 50,
    eventBurst: orIfZero(cfg.eventBurst, 100),
    kubeAPIQPS: cfg.kubeAPIQPS ?? 50,
    kubeAPIBurst: orIfZero(cfg.kubeAPIBurst, 100),

    shutdownGracePeriodMs: c.ms('shutdownGracePeriod', cfg.shutdownGracePeriod, 0),
    crashLoopBackOffMaxContainerRestartPeriodMs: c.ms(
      'crashLoopBackOff.maxContainerRestartPeriod',
      cfg.crashLoopBackOff?.maxContainerRestartPeriod,
      DEFAULT_MAX_CONTAINER_RESTART_PERIOD_MS,
      false,
    ),
    localStorageCapacityIsolation: cfg.localStorageCapacityIsolation ?? true,
    seccompDefault: cfg.seccompDefault ?? false,
  };
  return { config, issues: c.issues };
}

function isNonZeroDuration(s: string): boolean {
  try {
    return parseDuration(s) !== 0;
  } catch {
    return false;
  }
}
