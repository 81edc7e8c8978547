import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../../src/api/types.js';
import {
  buildContainerConfig,
  buildSandboxConfig,
  containerResources,
  milliCpuToQuota,
  milliCpuToShares,
  namespaceOptions,
  propagation,
  verifyRunAsNonRoot,
} from '../../../src/sync/criConfig.js';
import { containerHash } from '../../../src/sync/hash.js';
import { generatePodHostNameAndDomain, getNodenameForKernel } from '../../../src/sync/hostname.js';

// The pure CRI config builders against upstream kuberuntime_sandbox.go, kuberuntime_container.go,
// kuberuntime_container_linux.go, container/helpers.go MakePortMappings and cm/helpers_linux.go.

function pod(
  spec: Partial<NonNullable<Pod['spec']>> = {},
  meta: Partial<NonNullable<Pod['metadata']>> = {},
): Pod {
  return {
    metadata: { name: 'web', namespace: 'ns1', uid: 'u-1', ...meta },
    spec: { containers: [{ name: 'c', image: 'img:1' }], ...spec },
  };
}
const dns = { servers: ['10.96.0.10'], searches: ['ns1.svc.cluster.local'], options: ['ndots:5'] };
const sandbox = (p: Pod) => {
  const n = generatePodHostNameAndDomain(p, 'cluster.local');
  const hostname = getNodenameForKernel(n.hostname, n.hostDomain, p.spec?.setHostnameAsFQDN);
  return buildSandboxConfig({
    pod: p,
    attempt: 2,
    podLogsDir: '/var/log/pods',
    dns,
    cgroupParent: '',
    hostname,
  });
};

describe('buildSandboxConfig', () => {
  it('metadata, hostname, log directory, DNS, labels and annotations', () => {
    const cfg = sandbox(pod({}, { labels: { app: 'web' }, annotations: { a: 'b' } }));
    expect(cfg.metadata).toEqual({ name: 'web', namespace: 'ns1', uid: 'u-1', attempt: 2 });
    expect(cfg.hostname).toBe('web');
    expect(cfg.logDirectory).toBe('/var/log/pods/ns1_web_u-1');
    expect(cfg.dnsConfig).toEqual(dns);
    expect(cfg.labels).toEqual({
      app: 'web',
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'ns1',
      'io.kubernetes.pod.uid': 'u-1',
    });
    expect(cfg.annotations).toEqual({ a: 'b' });
  });

  it('no hostname on the host network; spec.hostname otherwise', () => {
    expect(sandbox(pod({ hostNetwork: true })).hostname).toBe('');
    expect(sandbox(pod({ hostname: 'h1' })).hostname).toBe('h1');
  });

  it('hostnameOverride is the hostname; setHostnameAsFQDN makes it the FQDN (upstream generatePodSandboxConfig)', () => {
    expect(sandbox(pod({ hostname: 'custom-host', hostnameOverride: 'override-host' })).hostname).toBe(
      'override-host',
    );
    expect(sandbox(pod({ subdomain: 't', hostnameOverride: 'override-host' })).hostname).toBe(
      'override-host',
    );
    expect(sandbox(pod({ hostname: 'h1', subdomain: 't', setHostnameAsFQDN: true })).hostname).toBe(
      'h1.t.ns1.svc.cluster.local',
    );
    expect(sandbox(pod({ hostname: 'h1', subdomain: 't' })).hostname).toBe('h1');
  });

  it('namespace options: network/pid/ipc', () => {
    expect(namespaceOptions(pod())).toEqual({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    expect(namespaceOptions(pod({ shareProcessNamespace: true }))).toEqual({
      network: 'POD',
      pid: 'POD',
      ipc: 'POD',
    });
    expect(namespaceOptions(pod({ hostNetwork: true, hostPID: true, hostIPC: true }))).toEqual({
      network: 'NODE',
      pid: 'NODE',
      ipc: 'NODE',
    });
    expect(sandbox(pod({ hostNetwork: true })).linux?.securityContext?.namespaceOptions?.network).toBe(
      'NODE',
    );
  });

  it('port mappings: every port of every regular container, duplicates dropped per container', () => {
    const cfg = sandbox(
      pod({
        containers: [
          {
            name: 'a',
            ports: [
              { name: 'http', containerPort: 80, protocol: 'TCP' },
              { name: 'http', containerPort: 81, protocol: 'TCP' },
              { containerPort: 53, protocol: 'UDP', hostPort: 5353 },
              { containerPort: 53, protocol: 'UDP', hostPort: 5353 },
              { containerPort: 53, protocol: 'UDP', hostPort: 5353, hostIP: '127.0.0.1' },
            ],
          },
          {
            name: 'b',
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP', hostIP: '::1', hostPort: 9090 }],
          },
        ],
        initContainers: [{ name: 'i', ports: [{ containerPort: 1 }] }],
      }),
    );
    expect(cfg.portMappings).toEqual([
      { protocol: 'TCP', containerPort: 80, hostPort: 0, hostIp: '' },
      { protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '' },
      { protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '127.0.0.1' },
      { protocol: 'TCP', containerPort: 8080, hostPort: 9090, hostIp: '::1' },
    ]);
  });

  it('security context: privileged if any container is, run-as ids, fsGroup first in groups, sysctls', () => {
    const cfg = sandbox(
      pod({
        securityContext: {
          runAsUser: 1000,
          runAsGroup: 3000,
          fsGroup: 2000,
          supplementalGroups: [4000],
          sysctls: [
            { name: 'net/ipv4/ip_unprivileged_port_start', value: '0' },
            { name: 'net/ipv4/conf/eno2.100/rp_filter', value: '1' },
          ],
        },
        initContainers: [{ name: 'i', securityContext: { privileged: true } }],
      }),
    );
    expect(cfg.linux?.securityContext).toMatchObject({
      privileged: true,
      runAsUser: { value: '1000' },
      runAsGroup: { value: '3000' },
      supplementalGroups: ['2000', '4000'],
    });
    // upstream NormalizeName: a '.' inside a '/'-separated name stays part of the segment
    expect(cfg.linux?.sysctls).toEqual({
      'net.ipv4.ip_unprivileged_port_start': '0',
      'net.ipv4.conf.eno2/100.rp_filter': '1',
    });
  });
});

describe('container resources', () => {
  it('MilliCPUToShares and MilliCPUToQuota as upstream', () => {
    expect([0, 1, 2, 250, 1000, 300_000].map(milliCpuToShares)).toEqual([2, 2, 2, 256, 1024, 262_144]);
    expect(milliCpuToQuota(0)).toEqual([0, 0]);
    expect(milliCpuToQuota(5)).toEqual([1000, 100_000]);
    expect(milliCpuToQuota(500)).toEqual([50_000, 100_000]);
  });

  const base = {
    cpuRequestMillis: 0,
    cpuLimitMillis: 0,
    memoryLimitBytes: 0,
    oomScoreAdj: 1000,
    cpuCfsQuota: true,
    cgroupV2: false,
  };

  it('shares from the request (or the limit without a request), quota from the limit, period always', () => {
    expect(
      containerResources({
        ...base,
        cpuRequestMillis: 250,
        cpuLimitMillis: 500,
        memoryLimitBytes: 128 * 2 ** 20,
        oomScoreAdj: 985,
      }),
    ).toEqual({
      cpuShares: '256',
      cpuQuota: '50000',
      cpuPeriod: '100000',
      memoryLimitInBytes: String(128 * 2 ** 20),
      oomScoreAdj: '985',
      unified: {},
    });
    expect(containerResources({ ...base, cpuLimitMillis: 1000 })).toMatchObject({
      cpuShares: '1024',
      cpuQuota: '100000',
    });
    // BestEffort: minimum shares, no quota, but the CFS period is still sent (upstream).
    expect(containerResources(base)).toMatchObject({
      cpuShares: '2',
      cpuQuota: '0',
      cpuPeriod: '100000',
      memoryLimitInBytes: '0',
    });
  });

  it('cpuCFSQuota false: neither quota nor period; cgroup v2: memory.oom.group', () => {
    expect(containerResources({ ...base, cpuLimitMillis: 500, cpuCfsQuota: false })).toMatchObject({
      cpuQuota: '0',
      cpuPeriod: '0',
    });
    expect(containerResources({ ...base, cgroupV2: true }).unified).toEqual({ 'memory.oom.group': '1' });
  });
});

describe('buildContainerConfig', () => {
  const c: Container = {
    name: 'app',
    image: 'img:1',
    workingDir: '/w',
    tty: true,
    ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
    lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } },
    terminationMessagePath: '/tmp/msg',
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  const p = pod({ containers: [c], terminationGracePeriodSeconds: 45 }, { deletionGracePeriodSeconds: 10 });
  const cfg = buildContainerConfig({
    pod: p,
    container: c,
    restartCount: 3,
    imageRef: 'sha256:abc',
    env: new Map([
      ['A', 'x'],
      ['UTF', 'héllo €'],
    ]),
    command: ['sh'],
    args: ['-c', 'true'],
    mounts: [],
    resources: containerResources({
      cpuRequestMillis: 0,
      cpuLimitMillis: 0,
      memoryLimitBytes: 0,
      oomScoreAdj: 1000,
      cpuCfsQuota: true,
      cgroupV2: false,
    }),
  });

  it('metadata, image, command, log path and flags', () => {
    expect(cfg.metadata).toEqual({ name: 'app', attempt: 3 });
    expect(cfg.image).toEqual({ image: 'sha256:abc', userSpecifiedImage: 'img:1' });
    expect(cfg.command).toEqual(['sh']);
    expect(cfg.args).toEqual(['-c', 'true']);
    expect(cfg.workingDir).toBe('/w');
    expect(cfg.logPath).toBe('app/3.log');
    expect([cfg.stdin, cfg.stdinOnce, cfg.tty]).toEqual([false, false, true]);
  });

  it('envs as UTF-8 bytes, in order', () => {
    expect(cfg.envs?.map((e) => [e.key, Buffer.from(e.value as Buffer).toString('utf8')])).toEqual([
      ['A', 'x'],
      ['UTF', 'héllo €'],
    ]);
    expect(Buffer.from(cfg.envs?.[1]?.value as Buffer)).toEqual(Buffer.from('héllo €', 'utf8'));
  });

  it('labels and annotations as upstream', () => {
    expect(cfg.labels).toEqual({
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'ns1',
      'io.kubernetes.pod.uid': 'u-1',
      'io.kubernetes.container.name': 'app',
    });
    expect(cfg.annotations).toEqual({
      'io.kubernetes.container.hash': containerHash(c),
      'io.kubernetes.container.restartCount': '3',
      'io.kubernetes.container.terminationMessagePath': '/tmp/msg',
      'io.kubernetes.container.terminationMessagePolicy': 'FallbackToLogsOnError',
      'io.kubernetes.pod.deletionGracePeriod': '10',
      'io.kubernetes.pod.terminationGracePeriod': '45',
      'io.kubernetes.container.preStopHandler': JSON.stringify(c.lifecycle?.preStop),
      'io.kubernetes.container.ports': JSON.stringify(c.ports),
    });
  });

  it('default masked and read-only /proc paths unless privileged', () => {
    expect(cfg.linux?.securityContext?.maskedPaths).toContain('/proc/kcore');
    expect(cfg.linux?.securityContext?.readonlyPaths).toContain('/proc/sys');
    const priv = buildContainerConfig({
      pod: p,
      container: { ...c, securityContext: { privileged: true } },
      restartCount: 0,
      imageRef: 'x',
      env: new Map(),
      command: [],
      args: [],
      mounts: [],
      resources: {},
    });
    expect(priv.linux?.securityContext).toMatchObject({
      privileged: true,
      maskedPaths: [],
      readonlyPaths: [],
    });
  });

  it('mount propagation enum', () => {
    expect([undefined, 'None', 'HostToContainer', 'Bidirectional'].map(propagation)).toEqual([
      'PROPAGATION_PRIVATE',
      'PROPAGATION_PRIVATE',
      'PROPAGATION_HOST_TO_CONTAINER',
      'PROPAGATION_BIDIRECTIONAL',
    ]);
  });
});

describe('verifyRunAsNonRoot', () => {
  const nonRoot = (
    sc: Container['securityContext'] = {},
    psc: NonNullable<Pod['spec']>['securityContext'] = {},
  ) => {
    const c: Container = { name: 'c', securityContext: sc };
    return [
      pod({ containers: [c], securityContext: psc }, { name: 'p', namespace: 'ns', uid: 'u' }),
      c,
    ] as const;
  };

  it('nothing to check without runAsNonRoot', () => {
    expect(verifyRunAsNonRoot(...nonRoot(), 0, '')).toBeUndefined();
    expect(
      verifyRunAsNonRoot(...nonRoot({ runAsNonRoot: false }, { runAsNonRoot: true }), 0, ''),
    ).toBeUndefined();
  });

  it('image runs as root (uid 0 or no user at all)', () => {
    const msg = 'container has runAsNonRoot and image will run as root (pod: "p_ns(u)", container: c)';
    expect(verifyRunAsNonRoot(...nonRoot({ runAsNonRoot: true }), 0, '')).toBe(msg);
    expect(verifyRunAsNonRoot(...nonRoot({}, { runAsNonRoot: true }), undefined, '')).toBe(msg);
  });

  it('non-numeric image user cannot be verified', () => {
    expect(verifyRunAsNonRoot(...nonRoot({ runAsNonRoot: true }), undefined, 'nobody')).toBe(
      'container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "p_ns(u)", container: c)',
    );
  });

  it('runAsUser decides when set (container over pod)', () => {
    expect(verifyRunAsNonRoot(...nonRoot({ runAsNonRoot: true, runAsUser: 0 }), 1000, '')).toBe(
      `container's runAsUser breaks non-root policy (pod: "p_ns(u)", container: c)`,
    );
    expect(verifyRunAsNonRoot(...nonRoot({ runAsNonRoot: true }, { runAsUser: 0 }), 1000, '')).toMatch(
      /breaks non-root/,
    );
    expect(
      verifyRunAsNonRoot(...nonRoot({ runAsNonRoot: true, runAsUser: 1000 }, { runAsUser: 0 }), 0, ''),
    ).toBeUndefined();
  });

  it('a numeric non-zero image user passes', () => {
    expect(verifyRunAsNonRoot(...nonRoot({ runAsNonRoot: true }), 1000, '')).toBeUndefined();
  });
});

// Upstream generateLinuxContainerConfig: an ephemeral container with a target shares the
// target's PID namespace (NamespaceMode TARGET + target_id) only when the pod has no shared or
// host PID namespace.
describe('ephemeral container namespace targeting', () => {
  const ec: Container = { name: 'debugger', image: 'img:1', stdin: true, tty: true };
  const build = (p: Pod, nsTarget?: string) =>
    buildContainerConfig({
      pod: p,
      container: ec,
      restartCount: 0,
      imageRef: 'x',
      env: new Map(),
      command: [],
      args: [],
      mounts: [],
      resources: {},
      ...(nsTarget ? { nsTarget } : {}),
    });

  it('joins the target container PID namespace', () => {
    expect(build(pod(), 'cid-app').linux?.securityContext?.namespaceOptions).toEqual({
      network: 'POD',
      pid: 'TARGET',
      ipc: 'POD',
      targetId: 'cid-app',
    });
  });

  it('keeps a shared or host PID namespace', () => {
    expect(
      build(pod({ shareProcessNamespace: true }), 'cid-app').linux?.securityContext?.namespaceOptions,
    ).toEqual({
      network: 'POD',
      pid: 'POD',
      ipc: 'POD',
    });
    expect(build(pod({ hostPID: true }), 'cid-app').linux?.securityContext?.namespaceOptions?.pid).toBe(
      'NODE',
    );
  });

  it('has its own PID namespace without a target', () => {
    expect(build(pod()).linux?.securityContext?.namespaceOptions?.pid).toBe('CONTAINER');
  });

  it('carries the regular container labels, and stdin/tty', () => {
    const cfg = build(pod(), 'cid-app');
    expect(cfg.labels).toEqual({
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'ns1',
      'io.kubernetes.pod.uid': 'u-1',
      'io.kubernetes.container.name': 'debugger',
    });
    expect([cfg.stdin, cfg.tty]).toEqual([true, true]);
  });
});
