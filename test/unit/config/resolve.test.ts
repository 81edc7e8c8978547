import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  FlagError,
  nodeNameFor,
  resolveConfig,
  resolveRelativePaths,
  validateResolvedConfig,
} from '../../../src/config/index.js';

const HEADER = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
const CONFIG_PATH = '/etc/kubernetes/kubelet.yaml';

/** resolveConfig with an in-memory config file and a fixed hostname. */
function resolve(argv: string[], body?: string, hostname = 'Node-1') {
  const files = new Map(body === undefined ? [] : [[CONFIG_PATH, HEADER + body]]);
  const readFile = (p: string): string => {
    const text = files.get(p);
    if (text === undefined)
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
    return text;
  };
  return resolveConfig(body === undefined ? argv : ['--config', CONFIG_PATH, ...argv], readFile, hostname);
}

function configError(argv: string[], body?: string): ConfigError {
  try {
    resolve(argv, body);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig defaults', () => {
  it('matches upstream v1beta1 defaults with no config file', () => {
    const { config, warnings } = resolve([]);
    expect(warnings).toEqual([]);
    const { evictionThresholds, ...rest } = config;
    expect(rest).toEqual({
      nodeName: 'node-1',
      kubeconfig: undefined,
      bootstrapKubeconfig: undefined,
      configFile: undefined,
      rootDir: '/var/lib/kubelet',
      certDir: '/var/lib/kubelet/pki',
      nodeIPs: [],
      logLevel: 'info',
      criConcurrency: 4,
      enableServer: true,
      address: '0.0.0.0',
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      tlsCertFile: '',
      tlsPrivateKeyFile: '',
      tlsMinVersion: '',
      tlsCipherSuites: [],
      rotateCertificates: false,
      serverTLSBootstrap: false,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true, cacheTTLMs: 120_000 },
        x509: { clientCAFile: '' },
      },
      authorization: {
        mode: 'Webhook',
        webhook: { cacheAuthorizedTTLMs: 300_000, cacheUnauthorizedTTLMs: 30_000 },
      },
      enableDebuggingHandlers: true,
      syncFrequencyMs: 60_000,
      fileCheckFrequencyMs: 20_000,
      staticPodPath: '',
      httpCheckFrequencyMs: 20_000,
      staticPodURL: '',
      staticPodURLHeader: {},
      nodeStatusUpdateFrequencyMs: 10_000,
      nodeStatusReportFrequencyMs: 300_000,
      nodeLeaseDurationSeconds: 40,
      registerNode: true,
      registerWithTaints: [],
      nodeLabels: {},
      nodeStatusMaxImages: 50,
      providerID: '',
      maxPods: 110,
      podsPerCore: 0,
      podPidsLimit: -1,
      allowedUnsafeSysctls: [],
      clusterDNS: [],
      clusterDomain: '',
      resolvConf: '/etc/resolv.conf',
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: true,
      cgroupRoot: '',
      cpuCFSQuota: true,
      cpuCFSQuotaPeriodMs: 100,
      singleProcessOOMKill: false,
      failSwapOn: true,
      failCgroupV1: true,
      memorySwapBehavior: 'NoSwap',
      kubeReserved: { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0, pids: 0 },
      systemReserved: { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0, pids: 0 },
      enforceNodeAllocatable: ['pods'],
      evictionPressureTransitionPeriodMs: 300_000,
      evictionMaxPodGracePeriodSeconds: 0,
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
      imageMinimumGCAgeMs: 120_000,
      serializeImagePulls: true,
      maxParallelImagePulls: undefined,
      containerLogMaxSizeBytes: 10 * 1024 * 1024,
      containerLogMaxFiles: 5,
      podLogsDir: '/var/log/pods',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      runtimeRequestTimeoutMs: 120_000,
      eventRecordQPS: 50,
      eventBurst: 100,
      kubeAPIQPS: 50,
      kubeAPIBurst: 100,
      shutdownGracePeriodMs: 0,
      crashLoopBackOffMaxContainerRestartPeriodMs: 300_000,
      localStorageCapacityIsolation: true,
      seccompDefault: false,
    });
    expect(evictionThresholds.map((t) => t.signal)).toEqual([
      'memory.available',
      'nodefs.available',
      'nodefs.inodesFree',
      'imagefs.available',
      'imagefs.inodesFree',
      'allocatableMemory.available',
    ]);
  });

  it('treats zero durations and counts as unset where upstream does (kubeadm writes 0s)', () => {
    const { config } = resolve(
      [],
      'syncFrequency: 0s\nnodeStatusUpdateFrequency: 0s\nnodeStatusReportFrequency: 0s\nruntimeRequestTimeout: 0s\n' +
        'imageMinimumGCAge: 0s\nevictionPressureTransitionPeriod: 0s\nport: 0\nmaxPods: 0\nkubeAPIBurst: 0\n' +
        'authentication:\n  webhook:\n    cacheTTL: 0s\n',
    );
    expect(config.syncFrequencyMs).toBe(60_000);
    expect(config.nodeStatusUpdateFrequencyMs).toBe(10_000);
    expect(config.nodeStatusReportFrequencyMs).toBe(300_000);
    expect(config.runtimeRequestTimeoutMs).toBe(120_000);
    expect(config.imageMinimumGCAgeMs).toBe(120_000);
    expect(config.evictionPressureTransitionPeriodMs).toBe(300_000);
    expect(config.port).toBe(10250);
    expect(config.maxPods).toBe(110);
    expect(config.kubeAPIBurst).toBe(100);
    expect(config.authentication.webhook.cacheTTLMs).toBe(120_000);
  });

  it('keeps explicit zeros where upstream uses pointers', () => {
    const { config } = resolve(
      [],
      'healthzPort: 0\neventRecordQPS: 0\nkubeAPIQPS: 0\nnodeStatusMaxImages: 0\nresolvConf: ""\n',
    );
    expect(config.healthzPort).toBe(0);
    expect(config.eventRecordQPS).toBe(0);
    expect(config.kubeAPIQPS).toBe(0);
    expect(config.nodeStatusMaxImages).toBe(0);
    expect(config.resolvConf).toBe('');
  });

  it('reads allowedUnsafeSysctls without a warning', () => {
    const { config, warnings } = resolve([], 'allowedUnsafeSysctls:\n- kernel.msg*\n- net.core.somaxconn\n');
    expect(config.allowedUnsafeSysctls).toEqual(['kernel.msg*', 'net.core.somaxconn']);
    expect(warnings).toEqual([]);
  });

  it('defaults nodeStatusReportFrequency to an explicitly set nodeStatusUpdateFrequency', () => {
    expect(resolve([], 'nodeStatusUpdateFrequency: 20s\n').config.nodeStatusReportFrequencyMs).toBe(20_000);
    const both = resolve([], 'nodeStatusUpdateFrequency: 20s\nnodeStatusReportFrequency: 1m\n').config;
    expect(both.nodeStatusReportFrequencyMs).toBe(60_000);
    expect(resolve([], 'nodeStatusReportFrequency: 1m\n').config.nodeStatusUpdateFrequencyMs).toBe(10_000);
  });

  it('converts units: durations to ms, sizes to bytes, CPU to millicores', () => {
    const { config } = resolve(
      [],
      'syncFrequency: 1m30s\ncpuCFSQuotaPeriod: 50ms\ncontainerLogMaxSize: 50Mi\nshutdownGracePeriod: 30s\n' +
        'kubeReserved:\n  cpu: 500m\n  memory: 1Gi\n  ephemeral-storage: 10G\n  pid: "1000"\nsystemReserved:\n  cpu: "1"\n' +
        'crashLoopBackOff:\n  maxContainerRestartPeriod: 1m\n',
    );
    expect(config.syncFrequencyMs).toBe(90_000);
    expect(config.cpuCFSQuotaPeriodMs).toBe(50);
    expect(config.containerLogMaxSizeBytes).toBe(52428800);
    expect(config.shutdownGracePeriodMs).toBe(30_000);
    expect(config.kubeReserved).toEqual({
      cpuMillis: 500,
      memoryBytes: 1073741824,
      ephemeralStorageBytes: 10_000_000_000,
      pids: 1000,
    });
    expect(config.systemReserved).toEqual({
      cpuMillis: 1000,
      memoryBytes: 0,
      ephemeralStorageBytes: 0,
      pids: 0,
    });
    expect(config.crashLoopBackOffMaxContainerRestartPeriodMs).toBe(60_000);
  });

  it('turns serializeImagePulls off when maxParallelImagePulls >= 2 is set', () => {
    expect(resolve([], 'maxParallelImagePulls: 3\n').config.serializeImagePulls).toBe(false);
    expect(resolve([], 'maxParallelImagePulls: 1\n').config.serializeImagePulls).toBe(true);
  });

  it('merges eviction defaults into a partial evictionHard (and honours mergeDefaultEvictionSettings: false)', () => {
    const merged = resolve([], 'evictionHard:\n  memory.available: 500Mi\n').config.evictionThresholds;
    expect(merged.find((t) => t.signal === 'memory.available')?.value).toEqual({ quantity: 524288000 });
    expect(merged.find((t) => t.signal === 'nodefs.available')?.value).toEqual({ percentage: 0.1 });
    const legacy = resolve(
      [],
      'mergeDefaultEvictionSettings: false\nevictionHard:\n  memory.available: 500Mi\n',
    ).config;
    expect(legacy.evictionThresholds.map((t) => t.signal)).toEqual([
      'memory.available',
      'allocatableMemory.available',
    ]);
  });
});

describe('resolveConfig precedence and sources', () => {
  it('lets explicitly set flags override file values, and only those', () => {
    const { config } = resolve(
      ['--max-pods=20', '--cluster-dns=10.0.0.53', '--runtime-request-timeout=30s', '--register-node=false'],
      'maxPods: 50\nclusterDNS: [10.96.0.10]\nclusterDomain: cluster.local\nregisterNode: true\nruntimeRequestTimeout: 10m\n',
    );
    expect(config.maxPods).toBe(20);
    expect(config.clusterDNS).toEqual(['10.0.0.53']);
    expect(config.clusterDomain).toBe('cluster.local');
    expect(config.registerNode).toBe(false);
    expect(config.runtimeRequestTimeoutMs).toBe(30_000);
  });

  it('maps --pod-manifest-path to staticPodPath and --container-runtime-endpoint', () => {
    const { config } = resolve(['--pod-manifest-path=/m', '--container-runtime-endpoint=unix:///x.sock']);
    expect(config.staticPodPath).toBe('/m');
    expect(config.containerRuntimeEndpoint).toBe('unix:///x.sock');
  });

  it('resolves relative paths in the file against its directory, not flag values', () => {
    const { config } = resolve(
      ['--config', CONFIG_PATH],
      'staticPodPath: manifests\ntlsCertFile: pki/kubelet.crt\ntlsPrivateKeyFile: /abs/k.key\n' +
        'authentication:\n  x509:\n    clientCAFile: pki/ca.crt\npodLogsDir: /var/log/pods\n',
    );
    expect(config.staticPodPath).toBe('/etc/kubernetes/manifests');
    expect(config.tlsCertFile).toBe('/etc/kubernetes/pki/kubelet.crt');
    expect(config.tlsPrivateKeyFile).toBe('/abs/k.key');
    expect(config.authentication.x509.clientCAFile).toBe('/etc/kubernetes/pki/ca.crt');
    expect(resolveRelativePaths({ resolvConf: '' }, CONFIG_PATH).resolvConf).toBe('');
    expect(resolve(['--pod-manifest-path=manifests']).config.staticPodPath).toBe('manifests');
  });

  it('returns unknown-field warnings for the caller to log', () => {
    const { warnings } = resolve([], 'maxPods: 20\nmaxPodz: 30\nhairpinMode: none\n');
    expect(warnings).toEqual([
      `${CONFIG_PATH}:4: unknown field "maxPodz"`,
      `${CONFIG_PATH}:5: field "hairpinMode" is not supported by kubelet-ts and is ignored`,
    ]);
  });

  it('derives the node name from --hostname-override or the hostname, lower-cased', () => {
    expect(resolve([]).config.nodeName).toBe('node-1');
    expect(resolve(['--hostname-override', ' Worker-7.Example.COM ']).config.nodeName).toBe(
      'worker-7.example.com',
    );
    expect(nodeNameFor(undefined, 'HOST')).toBe('host');
    expect(nodeNameFor('  ', 'host')).toBe('host');
    expect(() => nodeNameFor(undefined, '  ')).toThrow('empty hostname is invalid');
  });

  it('passes command-line-only settings through', () => {
    const { config } = resolve([
      '--kubeconfig=/k',
      '--bootstrap-kubeconfig=/b',
      '--node-ip=192.0.2.5',
      '--root-dir=/r',
      '--v=3',
    ]);
    expect(config).toMatchObject({
      kubeconfig: '/k',
      bootstrapKubeconfig: '/b',
      nodeIPs: ['192.0.2.5'],
      rootDir: '/r',
      certDir: '/var/lib/kubelet/pki',
      logLevel: 'debug',
    });
  });

  it('reports a missing config file clearly', () => {
    const e = configError(['--config', '/nope.yaml']);
    expect(e.message).toBe(
      "/nope.yaml: failed to read kubelet config file: ENOENT: no such file or directory, open '/nope.yaml'",
    );
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('throws FlagError for a bad command line', () => {
    expect(() => resolve(['--nope'])).toThrow(FlagError);
    expect(() => resolve(['--max-pods=x'])).toThrow('flag --max-pods: invalid integer "x"');
  });
});

describe('resolveConfig validation', () => {
  it.each([
    ['port: 70000', 'port', '70000 must be between 1 and 65535, inclusive'],
    ['readOnlyPort: -1', 'readOnlyPort', 'must be between 1 and 65535'],
    ['healthzPort: 65536', 'healthzPort', 'must be between 1 and 65535'],
    ['address: localhost', 'address', '"localhost" is not a valid IP address'],
    ['clusterDNS: [10.96.0.10, dns.local]', 'clusterDNS[1]', '"dns.local" is not a valid IP address'],
    ['maxPods: -1', 'maxPods', '-1 must not be a negative number'],
    ['podsPerCore: -2', 'podsPerCore', 'must not be a negative number'],
    ['nodeLeaseDurationSeconds: -5', 'nodeLeaseDurationSeconds', 'must be greater than 0'],
    ['nodeStatusMaxImages: -2', 'nodeStatusMaxImages', '-2 must be -1 or greater'],
    ['syncFrequency: -1m', 'syncFrequency', 'must be greater than zero'],
    [
      'imageGCHighThresholdPercent: 101',
      'imageGCHighThresholdPercent',
      '101 must be between 0 and 100, inclusive',
    ],
    [
      'imageGCHighThresholdPercent: 50\nimageGCLowThresholdPercent: 60',
      'imageGCLowThresholdPercent',
      '60 must be less than imageGCHighThresholdPercent 50',
    ],
    ['cpuCFSQuotaPeriod: 2s', 'cpuCFSQuotaPeriod', 'must be between 1ms and 1s, inclusive'],
    ['cpuCFSQuotaPeriod: 0s', 'cpuCFSQuotaPeriod', 'must be between 1ms and 1s, inclusive'],
    ['maxParallelImagePulls: 0', 'maxParallelImagePulls', '0 must be a positive number'],
    [
      'serializeImagePulls: true\nmaxParallelImagePulls: 5',
      'maxParallelImagePulls',
      'cannot be larger than 1 unless serializeImagePulls is false',
    ],
    ['containerLogMaxFiles: 1', 'containerLogMaxFiles', 'must be greater than 1'],
    ['podLogsDir: /var/log/../log/pods', 'podLogsDir', 'must be normalized'],
    ['podLogsDir: /var/log/pods/', 'podLogsDir', 'must be normalized'],
    ['shutdownGracePeriod: 500ms', 'shutdownGracePeriod', 'must be either zero or otherwise >= 1 sec'],
    [
      'crashLoopBackOff:\n  maxContainerRestartPeriod: 10m',
      'crashLoopBackOff.maxContainerRestartPeriod',
      'must be set between 1s and 300s',
    ],
    ['cgroupDriver: docker', 'cgroupDriver', '"docker" must be one of: "cgroupfs", "systemd"'],
    ['authorization:\n  mode: RBAC', 'authorization.mode', '"RBAC" must be one of: "AlwaysAllow", "Webhook"'],
    [
      'memorySwap:\n  swapBehavior: UnlimitedSwap',
      'memorySwap.swapBehavior',
      'must be one of: "NoSwap", "LimitedSwap"',
    ],
    ['enforceNodeAllocatable: [pods, pods]', 'enforceNodeAllocatable', 'duplicated enforcement "pods"'],
    [
      'enforceNodeAllocatable: [none, pods]',
      'enforceNodeAllocatable',
      'may not contain additional enforcements',
    ],
    ['enforceNodeAllocatable: [kube-reserved]', 'enforceNodeAllocatable', 'not supported by kubelet-ts'],
    ['enforceNodeAllocatable: [everything]', 'enforceNodeAllocatable', 'invalid option "everything"'],
    ['cgroupsPerQOS: false', 'cgroupsPerQOS', 'must be true when "pods" is in enforceNodeAllocatable'],
    ['nodeLabels:\n  kubernetes.io/role: worker', 'nodeLabels', "unknown 'kubernetes.io' or 'k8s.io' labels"],
    [
      'evictionSoft:\n  memory.available: 1Gi',
      'evictionSoftGracePeriod',
      'grace period must be specified for the soft eviction threshold memory.available',
    ],
  ])('rejects %j', (body, path, message) => {
    const e = configError([], body);
    expect(e.source).toBe(CONFIG_PATH);
    expect(e.issues.map((i) => i.path)).toContain(path);
    expect(e.issues.find((i) => i.path === path)?.message).toContain(message);
  });

  it('requires an absolute podLogsDir (relative ones in the file are made absolute first)', () => {
    const { config } = resolve([], 'podLogsDir: logs\n');
    expect(config.podLogsDir).toBe('/etc/kubernetes/logs');
    const issues = validateResolvedConfig({ ...config, podLogsDir: 'var/log/pods' });
    expect(issues).toEqual([
      { path: 'podLogsDir', value: 'var/log/pods', message: 'must be an absolute path' },
    ]);
    expect(validateResolvedConfig({ ...config, podLogsDir: '/var/log/pödś' })[0]?.message).toBe(
      'must contain ASCII characters only',
    );
  });

  it('accepts the disabled forms', () => {
    const { config } = resolve([], 'enforceNodeAllocatable: []\ncgroupsPerQOS: false\nhealthzPort: 0\n');
    expect(config.enforceNodeAllocatable).toEqual([]);
    expect(resolve([], 'enforceNodeAllocatable: [none]\n').config.enforceNodeAllocatable).toEqual(['none']);
  });

  it('names the flag when an overriding flag carries the bad value', () => {
    const e = configError(['--max-pods=-3'], 'maxPods: 10\n');
    expect(e.message).toBe(`${CONFIG_PATH}: maxPods (--max-pods): -3 must not be a negative number`);
    const noFile = (() => {
      try {
        resolve(['--cluster-dns=not-an-ip']);
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected an error');
    })();
    expect(noFile.source).toBe('command line');
    expect(noFile.message).toBe(
      'command line: clusterDNS[0] (--cluster-dns): "not-an-ip" is not a valid IP address',
    );
  });

  it('reports all problems together', () => {
    const e = configError([], 'port: 0\nmaxPods: -1\nhealthzPort: 70000\n');
    expect(e.issues.map((i) => i.path).sort()).toEqual(['healthzPort', 'maxPods']);
  });
});
