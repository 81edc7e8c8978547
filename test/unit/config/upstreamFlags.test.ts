import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../../src/config/flags.js';
import { resolveConfig } from '../../../src/config/index.js';

/**
 * Every flag of the upstream kubelet at v1.37.2 on Linux, taken from
 * cmd/kubelet/app/options/options.go (KubeletFlags.AddFlags, addContainerRuntimeFlags,
 * AddKubeletConfigFlags), options/globalflags_linux.go (cadvisor's --housekeeping-interval),
 * component-base verflag (--version) and logsapi.AddFlags (logging), with a value of the flag's
 * pflag type (empty = boolean).
 */
const UPSTREAM_KUBELET_FLAGS: [string, string][] = [
  ['address', '0.0.0.0'],
  ['allowed-unsafe-sysctls', 'kernel.msg*,net.ipv4.route.min_pmtu'],
  ['anonymous-auth', 'false'],
  ['authentication-token-webhook', ''],
  ['authentication-token-webhook-cache-ttl', '2m0s'],
  ['authorization-mode', 'Webhook'],
  ['authorization-webhook-cache-authorized-ttl', '5m0s'],
  ['authorization-webhook-cache-unauthorized-ttl', '30s'],
  ['bootstrap-kubeconfig', '/etc/kubernetes/bootstrap-kubelet.conf'],
  ['cert-dir', '/var/lib/kubelet/pki'],
  ['cgroup-driver', 'systemd'],
  ['cgroup-root', '/kubelet'],
  ['cgroups-per-qos', 'true'],
  ['client-ca-file', '/etc/kubernetes/pki/ca.crt'],
  ['cloud-provider', 'external'],
  ['cluster-dns', '10.96.0.10'],
  ['cluster-domain', 'cluster.local'],
  ['config', '/var/lib/kubelet/config.yaml'],
  ['config-dir', '/etc/kubernetes/kubelet.conf.d'],
  ['container-log-max-files', '5'],
  ['container-log-max-size', '10Mi'],
  ['container-runtime-endpoint', 'unix:///run/containerd/containerd.sock'],
  ['contention-profiling', ''],
  ['cpu-cfs-quota', 'true'],
  ['cpu-cfs-quota-period', '100ms'],
  ['cpu-manager-policy', 'none'],
  ['cpu-manager-policy-options', 'full-pcpus-only=true'],
  ['cpu-manager-reconcile-period', '10s'],
  ['enable-controller-attach-detach', 'true'],
  ['enable-debugging-handlers', 'true'],
  ['enable-server', 'true'],
  ['enforce-node-allocatable', 'pods'],
  ['event-burst', '100'],
  ['event-qps', '50'],
  ['eviction-hard', 'memory.available<100Mi,nodefs.available<10%'],
  ['eviction-max-pod-grace-period', '0'],
  ['eviction-minimum-reclaim', 'memory.available=0Mi'],
  ['eviction-pressure-transition-period', '5m0s'],
  ['eviction-soft', 'memory.available<300Mi'],
  ['eviction-soft-grace-period', 'memory.available=1m30s'],
  ['exit-on-lock-contention', ''],
  ['experimental-allocatable-ignore-eviction', 'false'],
  ['experimental-mounter-path', '/usr/bin/mount'],
  ['fail-cgroupv1', 'false'],
  ['fail-swap-on', 'false'],
  ['feature-gates', 'AllAlpha=false'],
  ['file-check-frequency', '20s'],
  ['hairpin-mode', 'promiscuous-bridge'],
  ['healthz-bind-address', '127.0.0.1'],
  ['healthz-port', '10248'],
  ['help', 'false'],
  ['hostname-override', 'node-a'],
  ['housekeeping-interval', '10s'],
  ['http-check-frequency', '20s'],
  ['image-credential-provider-bin-dir', '/usr/libexec/kubelet'],
  ['image-credential-provider-config', '/etc/kubelet/credential-provider.yaml'],
  ['image-gc-high-threshold', '85'],
  ['image-gc-low-threshold', '80'],
  ['image-service-endpoint', 'unix:///run/containerd/containerd.sock'],
  ['kernel-memcg-notification', 'false'],
  ['kube-api-burst', '100'],
  ['kube-api-content-type', 'application/vnd.kubernetes.protobuf'],
  ['kube-api-qps', '50'],
  ['kube-reserved', 'cpu=100m,memory=100Mi'],
  ['kube-reserved-cgroup', '/kube'],
  ['kubeconfig', '/etc/kubernetes/kubelet.conf'],
  ['kubelet-cgroups', '/kubelet.slice'],
  ['local-storage-capacity-isolation', 'true'],
  ['lock-file', '/var/run/lock/kubelet.lock'],
  ['log-flush-frequency', '5s'],
  ['log-json-info-buffer-size', '0'],
  ['log-json-split-stream', ''],
  ['log-text-info-buffer-size', '0'],
  ['log-text-split-stream', ''],
  ['logging-format', 'text'],
  ['make-iptables-util-chains', 'true'],
  ['manifest-url', 'http://127.0.0.1:8000/pods'],
  ['manifest-url-header', 'a:hello,b:again'],
  ['max-open-files', '1000000'],
  ['max-pods', '110'],
  ['maximum-dead-containers', '-1'],
  ['maximum-dead-containers-per-container', '1'],
  ['memory-manager-policy', 'None'],
  ['minimum-container-ttl-duration', '0s'],
  ['minimum-image-ttl-duration', '2m0s'],
  ['node-ip', '10.250.0.1'],
  ['node-labels', 'a=b,c=d'],
  ['node-status-max-images', '50'],
  ['node-status-update-frequency', '10s'],
  ['oom-score-adj', '-999'],
  ['pod-cidr', '10.244.0.0/24'],
  ['pod-manifest-path', '/etc/kubernetes/manifests'],
  ['pod-max-pids', '-1'],
  ['pods-per-core', '0'],
  ['port', '10250'],
  ['protect-kernel-defaults', 'false'],
  ['provider-id', 'kind://docker/kind/kind-control-plane'],
  ['qos-reserved', 'memory=50%'],
  ['read-only-port', '0'],
  ['register-node', 'true'],
  ['register-with-taints', 'node-role.kubernetes.io/control-plane:NoSchedule'],
  ['registry-burst', '10'],
  ['registry-qps', '5'],
  ['reserved-cpus', '0'],
  ['reserved-memory', '0:memory=1Gi'],
  ['resolv-conf', '/etc/resolv.conf'],
  ['root-dir', '/var/lib/kubelet'],
  ['rotate-certificates', 'true'],
  ['rotate-server-certificates', 'false'],
  ['runonce', 'false'],
  ['runtime-cgroups', '/system.slice/containerd.service'],
  ['runtime-request-timeout', '2m0s'],
  ['seccomp-default', 'false'],
  ['serialize-image-pulls', 'true'],
  ['streaming-connection-idle-timeout', '4h0m0s'],
  ['sync-frequency', '1m0s'],
  ['system-cgroups', '/system.slice'],
  ['system-reserved', 'cpu=100m'],
  ['system-reserved-cgroup', '/system.slice'],
  ['tls-cert-file', '/var/lib/kubelet/pki/kubelet.crt'],
  ['tls-cipher-suites', 'TLS_AES_128_GCM_SHA256'],
  ['tls-min-version', 'VersionTLS12'],
  ['tls-private-key-file', '/var/lib/kubelet/pki/kubelet.key'],
  ['topology-manager-policy', 'none'],
  ['topology-manager-policy-options', 'prefer-closest-numa-nodes=true'],
  ['topology-manager-scope', 'container'],
  ['v', '2'],
  ['version', 'false'],
  ['vmodule', 'pod_workers=4'],
  ['volume-plugin-dir', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec/'],
  ['volume-stats-agg-period', '1m0s'],
];

const asArgs = ([name, value]: [string, string]): string[] => [
  value === '' ? `--${name}` : `--${name}=${value}`,
];

describe('upstream kubelet flags (v1.37.2)', () => {
  it.each(UPSTREAM_KUBELET_FLAGS)('accepts --%s', (name, value) => {
    expect(() => parseFlags(asArgs([name, value]))).not.toThrow();
    if (value !== '' && !['help', 'version', 'v'].includes(name)) {
      // pflag also takes the value as the next argument (booleans only with '=').
      const isBool = ['true', 'false'].includes(value);
      if (!isBool) expect(() => parseFlags([`--${name}`, value])).not.toThrow();
    }
  });

  it('accepts all of them at once (a kubeadm/kind command line never exits 2)', () => {
    const argv = UPSTREAM_KUBELET_FLAGS.filter(([n]) => !['help', 'version'].includes(n)).flatMap(asArgs);
    const parsed = parseFlags(argv);
    expect(parsed.help).toBe(false);
    expect(parsed.version).toBe(false);
  });

  it('warns about deprecated config flags with upstream message', () => {
    const p = parseFlags([
      '--fail-swap-on=false',
      '--provider-id=kind://docker/kind/n',
      '--cgroup-root=/kubelet',
    ]);
    expect(p.warnings).toContain(
      "Flag --fail-swap-on has been deprecated, This parameter should be set via the config file specified by the Kubelet's --config flag. See https://kubernetes.io/docs/tasks/administer-cluster/kubelet-config-file/ for more information.",
    );
    // provider-id is one of upstream's notDeprecated flags.
    expect(p.warnings.some((w) => w.includes('--provider-id'))).toBe(false);
    expect(p.warnings.some((w) => w.startsWith('Flag --cgroup-root has been deprecated'))).toBe(true);
  });

  it('reports flags it accepts without implementing', () => {
    const p = parseFlags([
      '--cloud-provider=external',
      '--pod-infra-container-image=registry.k8s.io/pause:3.10',
    ]);
    expect(p.warnings).toContain(
      'flag --cloud-provider is accepted for compatibility but not implemented by kubelet-ts; ignored',
    );
    expect(p.warnings.some((w) => w.startsWith('Flag --pod-infra-container-image has been deprecated'))).toBe(
      true,
    );
  });

  it('gives the implemented flags their KubeletConfiguration meaning (flags win over the file)', () => {
    const file = [
      'apiVersion: kubelet.config.k8s.io/v1beta1',
      'kind: KubeletConfiguration',
      'authentication:',
      '  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}',
      '  webhook: {enabled: true}',
      'failSwapOn: true',
    ].join('\n');
    const { config } = resolveConfig(
      [
        '--config=/c.yaml',
        '--provider-id=kind://docker/kind/kind-control-plane',
        '--register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule,a=b:NoExecute',
        '--node-labels=topology.kubernetes.io/zone=z1',
        '--fail-swap-on=false',
        '--anonymous-auth=false',
        '--eviction-hard=memory.available<100Mi',
        '--rotate-certificates',
        '--manifest-url=http://127.0.0.1:1/pods',
        '--cgroup-root=/kubelet',
      ],
      () => file,
      'host-1',
    );
    expect(config.providerID).toBe('kind://docker/kind/kind-control-plane');
    expect(config.registerWithTaints).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
      { key: 'a', value: 'b', effect: 'NoExecute' },
    ]);
    expect(config.nodeLabels).toEqual({ 'topology.kubernetes.io/zone': 'z1' });
    expect(config.failSwapOn).toBe(false);
    expect(config.authentication.anonymous.enabled).toBe(false);
    expect(config.authentication.x509.clientCAFile).toBe('/etc/kubernetes/pki/ca.crt');
    expect(config.authentication.webhook.enabled).toBe(true);
    expect(config.rotateCertificates).toBe(true);
    expect(config.staticPodURL).toBe('http://127.0.0.1:1/pods');
    expect(config.cgroupRoot).toBe('/kubelet');
    expect(config.evictionThresholds.find((t) => t.signal === 'memory.available')?.value).toEqual({
      quantity: 100 * 1024 * 1024,
    });
  });

  it('still refuses flags upstream does not have', () => {
    expect(() => parseFlags(['--no-such-flag=1'])).toThrow('unknown flag: --no-such-flag');
  });
});
