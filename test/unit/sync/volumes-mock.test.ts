import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lstat, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod, PodStatus } from '../../../src/api/types.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import type { ContainerConfigOut, MountOut, PodSandboxConfigOut } from '../../../src/cri/types.js';
import { containerHash } from '../../../src/sync/hash.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';

// Volumes, env, DNS and the CRI configs the sync core hands the runtime, against the CRI mock
// (issue #7 items 1, 2, 3, 5): FailedMount and recovery, CreateContainerConfigError for bad env
// references, subPaths and runAsNonRoot, and the recorded RunPodSandbox/CreateContainer requests.

const BUSYBOX = 'localhost:5999/kubelet-ts/busybox:1.36';
const NONROOT = 'localhost:5999/kubelet-ts/busybox-nonroot:1.36';

let mock: CriMock;
let h: KubeletHarness;

beforeEach(async () => {
  mock = await CriMock.start();
  h = await KubeletHarness.start(mock.endpoint);
});
afterEach(async () => {
  // A failed test may leave a Memory emptyDir mounted: never let rm descend into it.
  for (const mp of mountsOf(h.dir).reverse()) execFileSync('umount', [mp]);
  await h.stop();
  await mock.stop();
});

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const uidOf = (p: Pod) => p.metadata!.uid!;
const podDir = (p: Pod) => join(h.dir, 'root', 'pods', uidOf(p));
const app = (extra: Partial<Container> = {}): Container => ({
  name: 'app',
  image: BUSYBOX,
  command: ['sleep', 'infinity'],
  ...extra,
});

function waiting(s: PodStatus | undefined, name = 'app') {
  return s?.containerStatuses?.find((c) => c.name === name)?.state?.waiting ?? undefined;
}

async function waitRunning(p: Pod): Promise<PodStatus> {
  return h.waitFor(`${p.metadata?.name} Running`, () => {
    const s = h.status(uidOf(p));
    return s?.phase === 'Running' && s.containerStatuses?.every((c) => c.state?.running) ? s : undefined;
  });
}

async function waitWaiting(p: Pod, reason: string, name = 'app') {
  return h.waitFor(`${p.metadata?.name}/${name} waiting ${reason}`, () => {
    const w = waiting(h.status(uidOf(p)), name);
    return w?.reason === reason ? w : undefined;
  });
}

function createdConfig(p: Pod, name = 'app'): ContainerConfigOut {
  const calls = mock
    .calls('CreateContainer')
    .filter((c) => c.sandboxConfig?.metadata?.uid === uidOf(p) && c.config?.metadata?.name === name);
  expect(calls.length).toBeGreaterThan(0);
  return calls.at(-1)!.config as ContainerConfigOut;
}

function sandboxConfig(p: Pod): PodSandboxConfigOut {
  const calls = mock.calls('RunPodSandbox').filter((c) => c.config?.metadata?.uid === uidOf(p));
  expect(calls.length).toBeGreaterThan(0);
  return calls.at(-1)!.config as PodSandboxConfigOut;
}

/** Mount points under `dir` (none are expected: the harness volumes are all on disk). */
function mountsOf(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp.startsWith(`${dir}/`));
}

const mountAt = (cfg: ContainerConfigOut, path: string): MountOut | undefined =>
  cfg.mounts.find((m) => m.containerPath === path);

describe('volumes that cannot be set up', () => {
  it('missing configMap: FailedMount, ContainerCreating, no sandbox; starts once the object appears', async () => {
    const p = testPod('cm-missing', {
      containers: [app({ volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }] })],
      volumes: [{ name: 'cfg', configMap: { name: 'app-config' } }],
    });
    h.setPods([p]);
    const ev = await h.waitFor('FailedMount', () => h.events.find((e) => e.reason === 'FailedMount'));
    expect(ev).toMatchObject({
      type: 'Warning',
      message: 'MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found',
      ref: { kind: 'Pod', name: 'cm-missing' },
    });
    const st = await h.waitFor('pending status', () => {
      const s = h.status(uidOf(p));
      return waiting(s)?.reason === 'ContainerCreating' ? s : undefined;
    });
    expect(st.phase).toBe('Pending');
    expect(mock.calls('RunPodSandbox')).toHaveLength(0);

    h.put({
      kind: 'ConfigMap',
      metadata: { name: 'app-config', namespace: 'default' },
      data: { 'app.conf': 'x=1' },
    });
    await waitRunning(p);
    const cfg = createdConfig(p);
    const m = mountAt(cfg, '/etc/app')!;
    expect(m).toMatchObject({ readonly: true, propagation: 'PROPAGATION_PRIVATE' });
    expect(m.hostPath).toBe(join(podDir(p), 'volumes', 'kubernetes.io~configmap', 'cfg'));
    expect(await readFile(join(m.hostPath, 'app.conf'), 'utf8')).toBe('x=1');
  });

  it('an item path with .. or an absolute path: FailedMount naming the volume, nothing written', async () => {
    h.put({ kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { k: 'v' } });
    const p = testPod('bad-items', {
      containers: [app()],
      volumes: [
        { name: 'up', configMap: { name: 'cm', items: [{ key: 'k', path: '../../escape' }] } },
        { name: 'abs', configMap: { name: 'cm', items: [{ key: 'k', path: '/tmp/escape' }] } },
      ],
    });
    h.setPods([p]);
    await h.waitFor('two FailedMount', () => h.events.filter((e) => e.reason === 'FailedMount').length >= 2);
    const messages = h.events.filter((e) => e.reason === 'FailedMount').map((e) => e.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        `MountVolume.SetUp failed for volume "up" : invalid path: must not contain '..': ../../escape`,
        'MountVolume.SetUp failed for volume "abs" : invalid path: must be relative path: /tmp/escape',
      ]),
    );
    await expect(lstat(join(podDir(p), 'volumes', 'escape'))).rejects.toThrow();
    await expect(
      lstat(join(podDir(p), 'volumes', 'kubernetes.io~configmap', 'up', '..data')),
    ).rejects.toThrow();
    expect(mock.calls('RunPodSandbox')).toHaveLength(0);
    expect(waiting(h.status(uidOf(p)))?.reason).toBe('ContainerCreating');
  });
});

describe('CreateContainerConfigError', () => {
  it('env from a missing secret key: the upstream message, a Failed event; runs once the key exists', async () => {
    h.put({ kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { user: b64('admin') } });
    const p = testPod('env-missing', {
      containers: [
        app({ env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }),
      ],
    });
    h.setPods([p]);
    const w = await waitWaiting(p, 'CreateContainerConfigError');
    expect(w.message).toBe("couldn't find key password in Secret default/db");
    expect(h.events).toContainEqual(
      expect.objectContaining({
        type: 'Warning',
        reason: 'Failed',
        message: "Error: couldn't find key password in Secret default/db",
        ref: expect.objectContaining({ fieldPath: 'spec.containers{app}' }),
      }),
    );
    expect(h.status(uidOf(p))?.phase).toBe('Pending');

    h.put({
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'default' },
      data: { user: b64('admin'), password: b64('s3cr€t') },
    });
    h.loop.syncSoon(uidOf(p));
    await waitRunning(p);
    const env = createdConfig(p).envs.find((e) => e.key === 'PASSWORD');
    expect(Buffer.from(env!.value)).toEqual(Buffer.from('s3cr€t', 'utf8'));
  });

  it('a missing configMap for envFrom: configmap "x" not found', async () => {
    const p = testPod('envfrom-missing', {
      containers: [app({ envFrom: [{ configMapRef: { name: 'nope' } }] })],
    });
    h.setPods([p]);
    expect((await waitWaiting(p, 'CreateContainerConfigError')).message).toBe('configmap "nope" not found');
  });

  it('subPath with .. or an absolute path', async () => {
    const mk = (name: string, subPath: string) =>
      testPod(name, {
        containers: [app({ volumeMounts: [{ name: 'scratch', mountPath: '/data', subPath }] })],
        volumes: [{ name: 'scratch', emptyDir: {} }],
      });
    const up = mk('sub-up', '../../../etc');
    const abs = mk('sub-abs', '/etc');
    h.setPods([up, abs]);
    expect((await waitWaiting(abs, 'CreateContainerConfigError')).message).toBe(
      'error SubPath `/etc` must not be an absolute path',
    );
    // Upstream says "unable to provision SubPath `../../../etc`: must not contain '..'" (makeMounts).
    expect((await waitWaiting(up, 'CreateContainerConfigError')).message).toMatch(
      /SubPath `\.\.\/\.\.\/\.\.\/etc`.* must not contain '\.\.'/,
    );
    await expect(lstat(join(podDir(up), 'etc'))).rejects.toThrow();
    expect(mock.calls('CreateContainer')).toHaveLength(0);
  });

  it('duplicate mount paths (the apiserver rejects them; a kubelet must not crash on them)', async () => {
    const p = testPod('dup-mounts', {
      containers: [
        app({
          volumeMounts: [
            { name: 'a', mountPath: '/data' },
            { name: 'b', mountPath: '/data' },
          ],
        }),
      ],
      volumes: [
        { name: 'a', emptyDir: {} },
        { name: 'b', emptyDir: {} },
      ],
    });
    h.setPods([p]);
    expect((await waitWaiting(p, 'CreateContainerConfigError')).message).toBe('duplicate mount path /data');
    expect(mock.calls('CreateContainer')).toHaveLength(0);
  });

  it('runAsNonRoot with a root image; with busybox-nonroot (uid 1000) it runs', async () => {
    const root = testPod('nonroot-root', {
      securityContext: { runAsNonRoot: true },
      containers: [app()],
    });
    const ok = testPod('nonroot-ok', {
      securityContext: { runAsNonRoot: true },
      containers: [app({ image: NONROOT })],
    });
    h.setPods([root, ok]);
    expect((await waitWaiting(root, 'CreateContainerConfigError')).message).toBe(
      `container has runAsNonRoot and image will run as root (pod: "nonroot-root_default(${uidOf(root)})", container: app)`,
    );
    await waitRunning(ok);
    expect(createdConfig(ok).image?.userSpecifiedImage).toBe(NONROOT);
  });
});

describe('what the runtime is asked for', () => {
  it('CreateContainer: envs, mounts, labels, annotations', async () => {
    h.put({
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: 'default' },
      data: { greeting: 'hello', mode: 'fast' },
    });
    h.put({ kind: 'Secret', metadata: { name: 'sec', namespace: 'default' }, data: { token: b64('tøken') } });
    h.services = [
      {
        metadata: { name: 'kubernetes', namespace: 'default' },
        spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
      },
    ];
    const c = app({
      command: ['sh', '-c', 'echo $(GREETING) $(MISSING)'],
      args: ['$(POD_NAME)', '$$(POD_NAME)'],
      envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cm' } }],
      env: [
        { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cm', key: 'greeting' } } },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sec', key: 'token' } } },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        {
          name: 'MEM_LIMIT_MI',
          valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
        },
        { name: 'COMBINED', value: '$(POD_NAME)@$(NODE)' },
        { name: 'UNICODE', value: 'ünï€ødé 🚀' },
      ],
      volumeMounts: [
        { name: 'cfg', mountPath: '/etc/cfg' },
        { name: 'sec', mountPath: '/etc/sec' },
        { name: 'proj', mountPath: '/var/run/proj' },
        { name: 'info', mountPath: '/etc/info' },
        { name: 'scratch', mountPath: '/scratch' },
        { name: 'scratch', mountPath: '/per-pod', subPathExpr: '$(POD_NAME)' },
        { name: 'host', mountPath: '/host', readOnly: true, mountPropagation: 'HostToContainer' },
      ],
    });
    const p = testPod('cc', {
      containers: [c],
      volumes: [
        { name: 'cfg', configMap: { name: 'cm' } },
        { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
        {
          name: 'proj',
          projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'cm' } }] },
        },
        {
          name: 'info',
          downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
        },
        { name: 'scratch', emptyDir: {} },
        { name: 'host', hostPath: { path: h.dir, type: 'Directory' } },
      ],
    });
    p.metadata!.labels = { app: 'cc', tier: 'web' };
    h.setPods([p]);
    const st = await waitRunning(p);
    const cfg = createdConfig(p);

    const env = Object.fromEntries(cfg.envs.map((e) => [e.key, Buffer.from(e.value).toString('utf8')]));
    expect(env).toEqual({
      CM_greeting: 'hello',
      CM_mode: 'fast',
      GREETING: 'hello',
      TOKEN: 'tøken',
      POD_NAME: 'cc',
      NODE: 'node-a',
      POD_IP: st.podIP,
      HOST_IP: '10.0.0.1',
      MEM_LIMIT_MI: String(8 * 1024),
      COMBINED: 'cc@node-a',
      UNICODE: 'ünï€ødé 🚀',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    });
    // Values travel as UTF-8 bytes (KeyValue.value is proto bytes).
    expect(cfg.envs.find((e) => e.key === 'UNICODE')!.value).toEqual(Buffer.from('ünï€ødé 🚀', 'utf8'));
    expect(cfg.command).toEqual(['sh', '-c', 'echo hello $(MISSING)']);
    expect(cfg.args).toEqual(['cc', '$(POD_NAME)']);

    const vols = join(podDir(p), 'volumes');
    const mounts = cfg.mounts.map((m) => ({
      containerPath: m.containerPath,
      hostPath: m.hostPath,
      readonly: m.readonly,
      propagation: m.propagation,
    }));
    expect(mounts).toEqual([
      {
        containerPath: '/etc/cfg',
        hostPath: join(vols, 'kubernetes.io~configmap/cfg'),
        readonly: true,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/etc/sec',
        hostPath: join(vols, 'kubernetes.io~secret/sec'),
        readonly: true,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/var/run/proj',
        hostPath: join(vols, 'kubernetes.io~projected/proj'),
        readonly: true,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/etc/info',
        hostPath: join(vols, 'kubernetes.io~downward-api/info'),
        readonly: true,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/scratch',
        hostPath: join(vols, 'kubernetes.io~empty-dir/scratch'),
        readonly: false,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/per-pod',
        hostPath: join(vols, 'kubernetes.io~empty-dir/scratch/cc'),
        readonly: false,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/host',
        hostPath: h.dir,
        readonly: true,
        propagation: 'PROPAGATION_HOST_TO_CONTAINER',
      },
      {
        containerPath: '/etc/hosts',
        hostPath: join(podDir(p), 'etc-hosts'),
        readonly: false,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/dev/termination-log',
        hostPath: expect.stringMatching(new RegExp(`^${join(podDir(p), 'containers', 'app')}/[0-9a-f]{8}$`)),
        readonly: false,
        propagation: 'PROPAGATION_PRIVATE',
      },
    ]);
    expect(await readFile(join(podDir(p), 'etc-hosts'), 'utf8')).toMatch(
      new RegExp(`^# Kubernetes-managed hosts file\\.\\n[^]*\\n${st.podIP!.replace(/\./g, '\\.')}\\tcc\\n$`),
    );
    expect(await readFile(join(vols, 'kubernetes.io~downward-api/info/labels'), 'utf8')).toBe(
      'app="cc"\ntier="web"',
    );
    expect((await lstat(join(vols, 'kubernetes.io~secret/sec/..data/token'))).mode & 0o777).toBe(0o400);

    expect(cfg.labels).toEqual({
      'io.kubernetes.pod.name': 'cc',
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.pod.uid': uidOf(p),
      'io.kubernetes.container.name': 'app',
    });
    expect(cfg.annotations).toEqual({
      'io.kubernetes.container.hash': containerHash(c),
      'io.kubernetes.container.restartCount': '0',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': '2',
    });
    expect(cfg.metadata).toMatchObject({ name: 'app', attempt: 0 });
    expect(cfg.logPath).toBe('app/0.log');
  });

  it('a restarted container: restartCount annotation and attempt follow', async () => {
    const p = testPod('restarts', {
      containers: [app({ command: ['sh', '-c', 'exit 1'] })],
      restartPolicy: 'Always',
    });
    h.setPods([p]);
    await h.waitFor(
      'second create',
      () =>
        mock.calls('CreateContainer').filter((c) => c.sandboxConfig?.metadata?.uid === uidOf(p)).length >= 2,
    );
    const cfg = createdConfig(p);
    expect(cfg.annotations['io.kubernetes.container.restartCount']).toBe('1');
    expect(cfg.metadata).toMatchObject({ attempt: 1 });
    expect(cfg.logPath).toBe('app/1.log');
  });

  it('resources and oom_score_adj for each QoS class', async () => {
    const guaranteed = testPod('qos-g', {
      containers: [
        app({
          resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        }),
      ],
    });
    const burstable = testPod('qos-b', {
      containers: [
        app({
          resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1500m', memory: '2Gi' } },
        }),
      ],
    });
    const burstableNoLimit = testPod('qos-b2', {
      containers: [app({ resources: { requests: { cpu: '100m' } } })],
    });
    const bestEffort = testPod('qos-be', { containers: [app()] });
    h.setPods([guaranteed, burstable, burstableNoLimit, bestEffort]);
    for (const p of [guaranteed, burstable, burstableNoLimit, bestEffort]) await waitRunning(p);
    const res = (p: Pod) => {
      const r = createdConfig(p).linux!.resources!;
      return {
        cpuShares: r.cpuShares,
        cpuQuota: r.cpuQuota,
        cpuPeriod: r.cpuPeriod,
        memoryLimitInBytes: r.memoryLimitInBytes,
        oomScoreAdj: r.oomScoreAdj,
      };
    };
    expect(res(guaranteed)).toEqual({
      cpuShares: '512',
      cpuQuota: '50000',
      cpuPeriod: '100000',
      memoryLimitInBytes: String(256 * 2 ** 20),
      oomScoreAdj: '-997',
    });
    // 1000 − 1000 × 1Gi / 8Gi (the harness machine) = 875.
    expect(res(burstable)).toEqual({
      cpuShares: '256',
      cpuQuota: '150000',
      cpuPeriod: '100000',
      memoryLimitInBytes: String(2 * 2 ** 30),
      oomScoreAdj: '875',
    });
    expect(res(burstableNoLimit)).toEqual({
      cpuShares: '102',
      cpuQuota: '0',
      cpuPeriod: '100000',
      memoryLimitInBytes: '0',
      oomScoreAdj: '999',
    });
    expect(res(bestEffort)).toEqual({
      cpuShares: '2',
      cpuQuota: '0',
      cpuPeriod: '100000',
      memoryLimitInBytes: '0',
      oomScoreAdj: '1000',
    });
  });

  it('RunPodSandbox: hostname, log directory, DNS, port mappings, namespaces, labels', async () => {
    const p = testPod('sb', {
      hostname: 'web-host',
      subdomain: 'svc-a',
      dnsConfig: { searches: ['extra.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
      hostAliases: [{ ip: '10.9.9.9', hostnames: ['alias.one', 'alias.two'] }],
      containers: [
        app({
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { containerPort: 53, protocol: 'UDP', hostPort: 5353 },
          ],
        }),
      ],
    });
    p.metadata!.labels = { app: 'sb' };
    p.metadata!.annotations = { 'example.com/note': 'n' };
    h.setPods([p]);
    const st = await waitRunning(p);
    const sb = sandboxConfig(p);
    expect(sb.metadata).toEqual({ name: 'sb', namespace: 'default', uid: uidOf(p), attempt: 0 });
    expect(sb.hostname).toBe('web-host');
    expect(sb.logDirectory).toBe(join(h.dir, 'logs', `default_sb_${uidOf(p)}`));
    expect(sb.dnsConfig).toEqual({
      servers: ['10.96.0.10'],
      searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'extra.example'],
      options: ['ndots:2', 'edns0'],
    });
    expect(sb.portMappings).toEqual([
      { protocol: 'TCP', containerPort: 8080, hostPort: 0, hostIp: '' },
      { protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '' },
    ]);
    expect(sb.linux?.securityContext?.namespaceOptions).toMatchObject({
      network: 'POD',
      pid: 'CONTAINER',
      ipc: 'POD',
    });
    expect(sb.labels).toEqual({
      app: 'sb',
      'io.kubernetes.pod.name': 'sb',
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.pod.uid': uidOf(p),
    });
    // Upstream's PodConfig adds the source and first-seen time to every pod it hands on.
    expect(sb.annotations).toEqual({
      'example.com/note': 'n',
      'kubernetes.io/config.source': 'api',
      'kubernetes.io/config.seen': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/),
    });
    expect(await readFile(join(podDir(p), 'etc-hosts'), 'utf8')).toBe(
      [
        '# Kubernetes-managed hosts file.',
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        'fe00::0\tip6-localnet',
        'fe00::0\tip6-mcastprefix',
        'fe00::1\tip6-allnodes',
        'fe00::2\tip6-allrouters',
        `${st.podIP}\tweb-host.svc-a.default.svc.cluster.local\tweb-host`,
        '',
        '# Entries added by HostAliases.',
        '10.9.9.9\talias.one\talias.two',
        '',
      ].join('\n'),
    );
  });

  it('hostNetwork: node namespaces, no hostname, ClusterFirst falls back to the host resolver', async () => {
    const hn = testPod('hostnet', { hostNetwork: true, containers: [app()] });
    const hn2 = testPod('hostnet2', {
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      containers: [app()],
    });
    const none = testPod('dnsnone', {
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['1.1.1.1'], searches: ['only.example'] },
      containers: [app()],
    });
    h.setPods([hn, hn2, none]);
    for (const p of [hn, hn2, none]) await waitRunning(p);
    const sb = sandboxConfig(hn);
    expect(sb.hostname).toBe('');
    expect(sb.linux?.securityContext?.namespaceOptions).toMatchObject({ network: 'NODE' });
    // The harness kubelet has resolvConf "": the local resolver, like upstream.
    expect(sb.dnsConfig).toEqual({ servers: ['127.0.0.1'], searches: ['.'], options: [] });
    expect(sandboxConfig(hn2).dnsConfig?.servers).toEqual(['10.96.0.10']);
    expect(sandboxConfig(none).dnsConfig).toEqual({
      servers: ['1.1.1.1'],
      searches: ['only.example'],
      options: [],
    });
    expect(h.status(uidOf(hn))?.podIP).toBe('10.0.0.1');
  });
});

describe('teardown', () => {
  it('a deleted pod leaves nothing under the kubelet root (its Memory emptyDir unmounted)', async () => {
    h.put({ kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { a: 'b' } });
    const p = testPod('gone', {
      containers: [
        app({
          volumeMounts: [
            { name: 'cfg', mountPath: '/cfg' },
            { name: 'e', mountPath: '/e' },
          ],
        }),
      ],
      volumes: [
        { name: 'cfg', configMap: { name: 'cm' } },
        { name: 'e', emptyDir: {} },
        { name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      ],
    });
    h.setPods([p]);
    await waitRunning(p);
    expect((await lstat(podDir(p))).isDirectory()).toBe(true);
    expect(mountsOf(podDir(p))).toEqual([join(podDir(p), 'volumes', 'kubernetes.io~empty-dir', 'm')]);
    h.setPods([]);
    const deadline = Date.now() + 15_000;
    while (await lstat(podDir(p)).catch(() => undefined)) {
      if (Date.now() > deadline) throw new Error(`${podDir(p)} still there`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(mountsOf(h.dir)).toEqual([]);
  });
});

async function gone(path: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await lstat(path).catch(() => undefined)) {
    if (Date.now() > deadline) throw new Error(`${path} still there`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Upstream: HandlePodCleanups → cleanupOrphanedPodDirs; a pod update resyncs the pod and the
// volume manager rewrites downwardAPI files (e2e "Downward API volume should update labels on
// modification"); makeMounts creates a missing subPath with the volume root's mode (e2e
// "EmptyDir volumes when FSGroup is specified nonexistent volume subPath ... using FSGroup").
describe('upstream volume behaviour through the sync loop', () => {
  it('orphaned pod directories (pods deleted while the kubelet was down) are torn down, tmpfs included', async () => {
    const orphan = join(h.dir, 'root', 'pods', 'uid-orphan');
    const tmpfs = join(orphan, 'volumes', 'kubernetes.io~secret', 's');
    await mkdir(tmpfs, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', tmpfs]);
    const p = testPod('kept', { containers: [app()], volumes: [{ name: 'e', emptyDir: {} }] });
    h.setPods([p]);
    await waitRunning(p);
    await gone(orphan);
    expect(mountsOf(orphan)).toEqual([]);
    expect((await lstat(podDir(p))).isDirectory()).toBe(true);
  });

  it('a label change rewrites a downwardAPI file of the running pod', async () => {
    const p = testPod('labels', {
      containers: [app({ volumeMounts: [{ name: 'info', mountPath: '/etc/podinfo' }] })],
      volumes: [
        {
          name: 'info',
          downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
        },
      ],
    });
    p.metadata!.labels = { key1: 'value1' };
    h.setPods([p]);
    await waitRunning(p);
    const file = join(podDir(p), 'volumes', 'kubernetes.io~downward-api', 'info', 'labels');
    expect(await readFile(file, 'utf8')).toBe('key1="value1"');
    h.update({ ...p, metadata: { ...p.metadata, labels: { key1: 'value1', key3: 'value3' } } });
    const deadline = Date.now() + 10_000;
    while ((await readFile(file, 'utf8')) !== 'key1="value1"\nkey3="value3"') {
      if (Date.now() > deadline) throw new Error(`labels file: ${await readFile(file, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('fsGroup: a missing subPath gets the Memory emptyDir root mode (dgtrwxrwxrwx), group fsGroup', async () => {
    const p = testPod('subpath-fsgroup', {
      securityContext: { fsGroup: 123, runAsUser: 1001 },
      containers: [app({ volumeMounts: [{ name: 'v', mountPath: '/test-volume', subPath: 'test-sub' }] })],
      volumes: [{ name: 'v', emptyDir: { medium: 'Memory' } }],
    });
    h.setPods([p]);
    await waitRunning(p);
    const root = join(podDir(p), 'volumes', 'kubernetes.io~empty-dir', 'v');
    const m = mountAt(createdConfig(p), '/test-volume')!;
    expect(m.hostPath).toBe(join(root, 'test-sub'));
    const st = await stat(m.hostPath);
    expect(st.mode & 0o7777).toBe(0o3777);
    expect([st.uid, st.gid]).toEqual([0, 123]);
    expect(createdConfig(p).linux?.securityContext?.supplementalGroups).toEqual(['123']);
  });
});
