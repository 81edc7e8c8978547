/**
 * The upstream kubelet's command line at the pin (v1.37.2, Linux): cmd/kubelet/app/options
 * (KubeletFlags.AddFlags, AddKubeletConfigFlags, AddGlobalFlags) plus component-base's logging
 * and version flags. kubelet-ts accepts every one of them, so that kubeadm's
 * `kubeadm-flags.env`, its systemd drop-in and kind's `kubeletExtraArgs` start it unchanged.
 * Flags with a `field` set that KubeletConfiguration field (flags win over --config, as
 * upstream); the others are accepted and reported as ignored. Flags that only exist in
 * flags.ts' own table (--log-level) are kubelet-ts extensions.
 */

/**
 * How a value is parsed (the pflag Value type upstream uses):
 * string/bool/int/float/duration; list = StringSlice (comma separated, repeatable);
 * map = MapStringString (k=v,...); langleMap = LangleSeparatedMapStringString (k<v,...);
 * taints = RegisterWithTaintsVar (key=value:Effect,...).
 */
export type UpstreamFlagKind =
  | 'string'
  | 'bool'
  | 'int'
  | 'float'
  | 'duration'
  | 'list'
  | 'map'
  | 'langleMap'
  | 'taints';

export interface UpstreamFlag {
  kind: UpstreamFlagKind;
  /** Dotted KubeletConfiguration path the flag sets in kubelet-ts; absent = accepted, ignored. */
  field?: string;
  /** pflag's deprecation message (printed as "Flag --x has been deprecated, <message>"). */
  deprecated?: string;
}

/** Upstream's message for every KubeletConfiguration flag except v, vmodule, log-flush-frequency, provider-id, fail-cgroupv1. */
export const CONFIG_FLAG_DEPRECATION =
  "This parameter should be set via the config file specified by the Kubelet's --config flag. See https://kubernetes.io/docs/tasks/administer-cluster/kubelet-config-file/ for more information.";
const EVICTION_INSTEAD =
  'Use --eviction-hard or --eviction-soft instead. Will be removed in a future version.';

const f = (kind: UpstreamFlagKind, field?: string): UpstreamFlag => ({
  kind,
  ...(field ? { field } : {}),
});
/** A KubeletConfiguration flag: deprecated upstream in favour of --config. */
const c = (kind: UpstreamFlagKind, field?: string): UpstreamFlag => ({
  ...f(kind, field),
  deprecated: CONFIG_FLAG_DEPRECATION,
});

/** KubeletFlags (not deprecated unless marked) and global flags. */
const KUBELET_FLAGS: Record<string, UpstreamFlag> = {
  config: f('string'),
  'config-dir': f('string'),
  kubeconfig: f('string'),
  'bootstrap-kubeconfig': f('string'),
  'hostname-override': f('string'),
  'node-ip': f('string'),
  'cert-dir': f('string'),
  'cloud-provider': f('string'),
  'root-dir': f('string'),
  'seccomp-default': f('bool', 'seccompDefault'),
  'node-labels': f('map', 'nodeLabels'),
  'lock-file': f('string'),
  'exit-on-lock-contention': f('bool'),
  'runtime-cgroups': f('string'),
  'image-credential-provider-config': f('string'),
  'image-credential-provider-bin-dir': f('string'),
  'minimum-container-ttl-duration': { kind: 'duration', deprecated: EVICTION_INSTEAD },
  'maximum-dead-containers-per-container': { kind: 'int', deprecated: EVICTION_INSTEAD },
  'maximum-dead-containers': { kind: 'int', deprecated: EVICTION_INSTEAD },
  'experimental-mounter-path': {
    kind: 'string',
    deprecated: 'will be removed in 1.25 or later. in favor of using CSI.',
  },
  'experimental-allocatable-ignore-eviction': {
    kind: 'bool',
    deprecated: 'will be removed in 1.25 or later.',
  },
  // cadvisor (globalflags_linux.go), verflag, --help
  'housekeeping-interval': f('duration'),
  version: f('string'),
  help: f('bool'),
  // component-base logs (logsapi.AddFlags on the KubeletConfiguration's logging)
  v: f('int'),
  vmodule: f('string'),
  'log-flush-frequency': f('duration'),
  'logging-format': c('string'),
  'log-text-split-stream': c('bool'),
  'log-text-info-buffer-size': c('string'),
  'log-json-split-stream': c('bool'),
  'log-json-info-buffer-size': c('string'),
};

/** AddKubeletConfigFlags, in upstream's order. */
const CONFIG_FLAGS: Record<string, UpstreamFlag> = {
  'enable-server': c('bool', 'enableServer'),
  'fail-swap-on': c('bool', 'failSwapOn'),
  'pod-manifest-path': c('string', 'staticPodPath'),
  'sync-frequency': c('duration', 'syncFrequency'),
  'file-check-frequency': c('duration', 'fileCheckFrequency'),
  'http-check-frequency': c('duration', 'httpCheckFrequency'),
  'manifest-url': c('string', 'staticPodURL'),
  'manifest-url-header': c('string'),
  address: c('string', 'address'),
  port: c('int', 'port'),
  'read-only-port': c('int', 'readOnlyPort'),
  'fail-cgroupv1': f('bool', 'failCgroupV1'),
  'container-runtime-endpoint': c('string', 'containerRuntimeEndpoint'),
  'image-service-endpoint': c('string'),
  'anonymous-auth': c('bool', 'authentication.anonymous.enabled'),
  'authentication-token-webhook': c('bool', 'authentication.webhook.enabled'),
  'authentication-token-webhook-cache-ttl': c('duration', 'authentication.webhook.cacheTTL'),
  'client-ca-file': c('string', 'authentication.x509.clientCAFile'),
  'authorization-mode': c('string', 'authorization.mode'),
  'authorization-webhook-cache-authorized-ttl': c('duration', 'authorization.webhook.cacheAuthorizedTTL'),
  'authorization-webhook-cache-unauthorized-ttl': c('duration', 'authorization.webhook.cacheUnauthorizedTTL'),
  'tls-cert-file': c('string', 'tlsCertFile'),
  'tls-private-key-file': c('string', 'tlsPrivateKeyFile'),
  'rotate-server-certificates': c('bool', 'serverTLSBootstrap'),
  'tls-cipher-suites': c('list'),
  'tls-min-version': c('string'),
  'rotate-certificates': c('bool', 'rotateCertificates'),
  'registry-qps': c('int'),
  'registry-burst': c('int'),
  'event-qps': c('int', 'eventRecordQPS'),
  'event-burst': c('int', 'eventBurst'),
  'enable-debugging-handlers': c('bool', 'enableDebuggingHandlers'),
  'contention-profiling': c('bool'),
  'healthz-port': c('int', 'healthzPort'),
  'healthz-bind-address': c('string', 'healthzBindAddress'),
  'oom-score-adj': c('int'),
  'cluster-domain': c('string', 'clusterDomain'),
  'volume-plugin-dir': c('string'),
  'cluster-dns': c('list', 'clusterDNS'),
  'streaming-connection-idle-timeout': c('duration'),
  'node-status-update-frequency': c('duration', 'nodeStatusUpdateFrequency'),
  'minimum-image-ttl-duration': c('duration', 'imageMinimumGCAge'),
  'image-gc-high-threshold': c('int', 'imageGCHighThresholdPercent'),
  'image-gc-low-threshold': c('int', 'imageGCLowThresholdPercent'),
  'volume-stats-agg-period': c('duration'),
  'feature-gates': c('map'),
  'kubelet-cgroups': c('string'),
  'system-cgroups': c('string'),
  'provider-id': f('string', 'providerID'),
  'cgroups-per-qos': c('bool', 'cgroupsPerQOS'),
  'cgroup-driver': c('string', 'cgroupDriver'),
  'cgroup-root': c('string', 'cgroupRoot'),
  'cpu-manager-policy': c('string'),
  'cpu-manager-policy-options': c('map'),
  'cpu-manager-reconcile-period': c('duration'),
  'qos-reserved': c('map'),
  'topology-manager-policy': c('string'),
  'runtime-request-timeout': c('duration', 'runtimeRequestTimeout'),
  'hairpin-mode': c('string'),
  'max-pods': c('int', 'maxPods'),
  'pod-cidr': c('string'),
  'pod-max-pids': c('int', 'podPidsLimit'),
  'resolv-conf': c('string', 'resolvConf'),
  runonce: c('bool'),
  'cpu-cfs-quota': c('bool', 'cpuCFSQuota'),
  'cpu-cfs-quota-period': c('duration', 'cpuCFSQuotaPeriod'),
  'enable-controller-attach-detach': c('bool'),
  'make-iptables-util-chains': c('bool'),
  'container-log-max-size': c('string', 'containerLogMaxSize'),
  'container-log-max-files': c('int', 'containerLogMaxFiles'),
  'allowed-unsafe-sysctls': c('list', 'allowedUnsafeSysctls'),
  'node-status-max-images': c('int', 'nodeStatusMaxImages'),
  'kernel-memcg-notification': c('bool'),
  'local-storage-capacity-isolation': c('bool', 'localStorageCapacityIsolation'),
  'max-open-files': c('int'),
  'kube-api-content-type': c('string'),
  'kube-api-qps': c('int', 'kubeAPIQPS'),
  'kube-api-burst': c('int', 'kubeAPIBurst'),
  'serialize-image-pulls': c('bool', 'serializeImagePulls'),
  'eviction-hard': c('langleMap', 'evictionHard'),
  'eviction-soft': c('langleMap', 'evictionSoft'),
  'eviction-soft-grace-period': c('map', 'evictionSoftGracePeriod'),
  'eviction-pressure-transition-period': c('duration', 'evictionPressureTransitionPeriod'),
  'eviction-max-pod-grace-period': c('int', 'evictionMaxPodGracePeriod'),
  'eviction-minimum-reclaim': c('map', 'evictionMinimumReclaim'),
  'pods-per-core': c('int', 'podsPerCore'),
  'protect-kernel-defaults': c('bool'),
  'reserved-cpus': c('string'),
  'topology-manager-scope': c('string'),
  'topology-manager-policy-options': c('map'),
  'system-reserved': c('map', 'systemReserved'),
  'kube-reserved': c('map', 'kubeReserved'),
  'enforce-node-allocatable': c('list', 'enforceNodeAllocatable'),
  'system-reserved-cgroup': c('string'),
  'kube-reserved-cgroup': c('string'),
  'memory-manager-policy': c('string'),
  'reserved-memory': c('string'),
  'register-node': c('bool', 'registerNode'),
  'register-with-taints': c('taints', 'registerWithTaints'),
};

/**
 * Flags that upstream removed but that older kubeadm/kind setups still pass
 * (`--pod-infra-container-image` was dropped in v1.35: the sandbox image is the runtime's).
 * Upstream v1.37 refuses them; kubelet-ts accepts and ignores them with a warning.
 */
export const REMOVED_UPSTREAM_FLAGS: Record<string, UpstreamFlag> = {
  'pod-infra-container-image': {
    kind: 'string',
    deprecated: 'removed upstream in v1.35; the sandbox image is configured in the container runtime',
  },
};

export const UPSTREAM_FLAGS: Readonly<Record<string, UpstreamFlag>> = {
  ...KUBELET_FLAGS,
  ...CONFIG_FLAGS,
  ...REMOVED_UPSTREAM_FLAGS,
};
