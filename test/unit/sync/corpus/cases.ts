import { randomUUID } from 'node:crypto';
import type { Container, Pod } from '../../../../src/api/types.js';
import { testPod } from '../../../helpers/kubeletHarness.js';

// A corpus of hostile and malformed pod specs: things the apiserver accepts (or that reach a
// kubelet another way: static pods, an older or careless apiserver) and that a careless kubelet
// mishandles. Each case names the outcome a user sees in the pod's status or events, with
// upstream's reason strings (pkg/kubelet at v1.37.2) where upstream has one.

export const BUSYBOX = 'localhost:5999/kubelet-ts/busybox:1.36';
export const ESCAPE = 'kts-corpus-pwned';

/** What a user sees. All listed fields must hold at once. */
export interface Outcome {
  /** Pod status.phase. */
  phase?: string;
  /** Pod status.reason (admission rejections, DeadlineExceeded). */
  reason?: string;
  /** The first container's (or `container`'s) state: waiting/terminated reason, or 'running'. */
  state?: string;
  /** Accepted alternatives for `state` (a back-off reason that follows the first error). */
  states?: string[];
  container?: string;
  /** A pod event reason that must have been recorded. */
  event?: string;
  /** Substring of the status message, the waiting/terminated message, or the event. */
  message?: string;
  exitCode?: number;
}

export interface HostileCase {
  name: string;
  pod: Pod;
  expect: Outcome;
}

const c = (extra: Partial<Container> = {}): Container => ({
  name: 'app',
  image: BUSYBOX,
  command: ['sleep', 'infinity'],
  ...extra,
});

function pod(
  name: string,
  spec: Partial<NonNullable<Pod['spec']>> = {},
  meta: Partial<Pod['metadata']> = {},
): Pod {
  const p = testPod(name, { containers: [c()], ...spec });
  p.metadata = { ...p.metadata, ...meta };
  return p;
}

const withC = (name: string, extra: Partial<Container>, spec: Partial<NonNullable<Pod['spec']>> = {}) =>
  pod(name, { containers: [c(extra)], ...spec });

const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))
  .filter((ch) => ch !== '=')
  .join('');

const rejected = (reason: string, message?: string): Outcome => ({ phase: 'Failed', reason, message });
const waiting = (state: string, message?: string): Outcome => ({ phase: 'Pending', state, message });
const running: Outcome = { phase: 'Running', state: 'running' };
const failedMount = (message?: string): Outcome => ({
  phase: 'Pending',
  state: 'ContainerCreating',
  event: 'FailedMount',
  message,
});

const vol = (name: string, v: Omit<NonNullable<NonNullable<Pod['spec']>['volumes']>[number], 'name'>) =>
  ({ name, ...v }) as NonNullable<NonNullable<Pod['spec']>['volumes']>[number];
const mounted = (name: string, v: Parameters<typeof vol>[1], extra: Partial<Container> = {}) =>
  withC(name, { volumeMounts: [{ name: 'v', mountPath: '/v' }], ...extra }, { volumes: [vol('v', v)] });

export function hostileCases(): HostileCase[] {
  return [
    // ---- admission: rejected before anything runs (status.phase Failed, status.reason) ----
    {
      name: 'sysctl-unsafe',
      pod: pod('sysctl-unsafe', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }),
      expect: rejected('SysctlForbidden', 'forbidden sysctl'),
    },
    {
      name: 'sysctl-garbage-name',
      pod: pod('sysctl-garbage', { securityContext: { sysctls: [{ name: 'foo..bar/../x', value: '1' }] } }),
      expect: rejected('SysctlForbidden'),
    },
    {
      name: 'sysctl-node-level',
      pod: pod('sysctl-node', { securityContext: { sysctls: [{ name: 'kernel.panic', value: '1' }] } }),
      expect: rejected('SysctlForbidden'),
    },
    {
      name: 'sysctl-net-with-hostNetwork',
      pod: pod('sysctl-hostnet', {
        hostNetwork: true,
        securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }] },
      }),
      expect: rejected('SysctlForbidden'),
    },
    {
      name: 'cpu-impossible',
      pod: withC('cpu-huge', { resources: { requests: { cpu: '1000' } } }),
      expect: rejected('OutOfcpu', "Node didn't have enough resource: cpu"),
    },
    {
      name: 'memory-impossible',
      pod: withC('mem-huge', { resources: { requests: { memory: '1Ei' } } }),
      expect: rejected('OutOfmemory'),
    },
    {
      name: 'ephemeral-storage-impossible',
      pod: withC('eph-huge', { resources: { requests: { 'ephemeral-storage': '1Pi' } } }),
      expect: rejected('OutOfephemeral-storage'),
    },
    {
      name: 'init-container-impossible',
      pod: pod('init-huge', {
        initContainers: [c({ name: 'init', resources: { requests: { cpu: '64' } } })],
      }),
      expect: rejected('OutOfcpu'),
    },
    {
      name: 'overhead-impossible',
      pod: pod('overhead-huge', { overhead: { memory: '100Gi' } }),
      expect: rejected('OutOfmemory'),
    },
    {
      name: 'nodeSelector-mismatch',
      pod: pod('selector', { nodeSelector: { 'kubernetes.io/hostname': 'elsewhere' } }),
      expect: rejected('NodeAffinity'),
    },
    {
      name: 'nodeAffinity-impossible',
      pod: pod('affinity', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'no-such-label', operator: 'Exists' }] }],
            },
          },
        },
      }),
      expect: rejected('NodeAffinity'),
    },
    {
      name: 'nodeName-other-node',
      pod: pod('other-node', { nodeName: 'node-b' }),
      expect: rejected('NodeName'),
    },
    {
      name: 'os-windows',
      pod: pod('os-windows', { os: { name: 'windows' } }),
      expect: rejected('PodOSNotSupported'),
    },
    // Upstream rejectPodAdmissionBasedOnOSSelector reads the pod's own kubernetes.io/os label;
    // a nodeSelector on it is an ordinary NodeAffinity mismatch.
    {
      name: 'os-label-windows',
      pod: pod('os-label', {}, { labels: { 'kubernetes.io/os': 'windows' } }),
      expect: rejected(
        'PodOSSelectorNodeLabelDoesNotMatch',
        "the `kubernetes.io/os` label doesn't match node label",
      ),
    },
    {
      name: 'os-nodeSelector-windows',
      pod: pod('os-selector', { nodeSelector: { 'kubernetes.io/os': 'windows' } }),
      expect: rejected('NodeAffinity'),
    },
    {
      name: 'hostPort-taken',
      pod: withC('port-taken', { ports: [{ containerPort: 80, hostPort: 18080, protocol: 'TCP' }] }),
      expect: rejected('NodePorts'),
    },
    // Upstream removeMissingExtendedResources: a resource the node does not have at all is
    // ignored at admission (cluster-autoscaler scale-from-zero), so the pod runs.
    {
      name: 'extended-resource-unknown',
      pod: withC('dongle', {
        resources: { requests: { 'example.com/dongle': '1' }, limits: { 'example.com/dongle': '1' } },
      }),
      expect: running,
    },

    // ---- images ----
    { name: 'image-empty', pod: withC('img-empty', { image: '' }), expect: waiting('InvalidImageName') },
    {
      name: 'image-uppercase',
      pod: withC('img-upper', { image: 'Localhost/UPPER:1' }),
      expect: waiting('InvalidImageName', 'repository name must be lowercase'),
    },
    {
      name: 'image-space',
      pod: withC('img-space', { image: 'busy box' }),
      expect: waiting('InvalidImageName'),
    },
    {
      name: 'image-bad-digest',
      pod: withC('img-digest', { image: 'busybox@sha256:xyz' }),
      expect: waiting('InvalidImageName'),
    },
    {
      name: 'image-traversal',
      pod: withC('img-dots', { image: '../../etc/passwd' }),
      expect: waiting('InvalidImageName'),
    },
    {
      name: 'image-missing',
      pod: withC('img-missing', { image: 'localhost:5999/kubelet-ts/does-not-exist:1' }),
      expect: { phase: 'Pending', states: ['ErrImagePull', 'ImagePullBackOff'] },
    },
    {
      name: 'image-missing-never-pull',
      pod: withC('img-never', {
        image: 'localhost:5999/kubelet-ts/does-not-exist:1',
        imagePullPolicy: 'Never',
      }),
      expect: waiting('ErrImageNeverPull', 'is not present with pull policy of Never'),
    },

    // ---- env ----
    {
      name: 'env-secret-missing',
      pod: withC('env-nosecret', {
        env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }],
      }),
      expect: waiting('CreateContainerConfigError', 'secret "nope" not found'),
    },
    {
      name: 'env-secret-key-missing',
      pod: withC('env-nokey', {
        env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }],
      }),
      expect: waiting('CreateContainerConfigError', "couldn't find key nope in Secret default/creds"),
    },
    {
      name: 'env-configmap-missing',
      pod: withC('env-nocm', {
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }],
      }),
      expect: waiting('CreateContainerConfigError', 'configmap "nope" not found'),
    },
    {
      name: 'envFrom-configmap-missing',
      pod: withC('envfrom-nocm', { envFrom: [{ configMapRef: { name: 'nope' } }] }),
      expect: waiting('CreateContainerConfigError', 'configmap "nope" not found'),
    },
    {
      name: 'envFrom-secret-missing-optional',
      pod: withC('envfrom-opt', { envFrom: [{ secretRef: { name: 'nope', optional: true } }] }),
      expect: running,
    },
    {
      name: 'env-fieldRef-unsupported',
      pod: withC('env-field', {
        env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.bogus' } } }],
      }),
      expect: waiting('CreateContainerConfigError', 'unsupported fieldPath'),
    },
    {
      name: 'env-resourceFieldRef-unsupported',
      pod: withC('env-res', {
        env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.bogus' } } }],
      }),
      expect: waiting('CreateContainerConfigError', 'unsupported container resource'),
    },
    {
      name: 'env-10000-vars',
      pod: withC('env-10k', {
        env: Array.from({ length: 10_000 }, (_, i) => ({ name: `V${i}`, value: `${i}` })),
      }),
      expect: running,
    },
    {
      name: 'env-every-printable-name',
      pod: withC('env-printable', {
        env: [...printable]
          .map((ch, i) => ({ name: `N${i}${ch}`, value: ch }))
          .concat([{ name: printable, value: 'all' }]),
      }),
      expect: running,
    },
    {
      name: 'env-unicode',
      pod: withC('env-unicode', { env: [{ name: 'ÜNÏ_😀', value: 'ünï\u0000code\n😀' }] }),
      expect: running,
    },
    {
      name: 'env-value-1MiB',
      pod: withC('env-big', { env: [{ name: 'BIG', value: 'x'.repeat(1024 * 1024) }] }),
      expect: running,
    },
    {
      name: 'env-self-reference',
      pod: withC('env-loop', {
        env: [
          { name: 'A', value: '$(B)$(A)' },
          { name: 'B', value: '$(A)$(A)$(A)$(A)' },
        ],
      }),
      expect: running,
    },

    // ---- security context ----
    {
      name: 'runAsNonRoot-root-image',
      pod: withC('nonroot-image', { securityContext: { runAsNonRoot: true } }),
      expect: waiting('CreateContainerConfigError', 'container has runAsNonRoot and image will run as root'),
    },
    {
      name: 'runAsNonRoot-runAsUser-0',
      pod: withC('nonroot-uid0', { securityContext: { runAsNonRoot: true, runAsUser: 0 } }),
      expect: waiting('CreateContainerConfigError', "container's runAsUser breaks non-root policy"),
    },

    // ---- processes ----
    {
      name: 'command-not-found',
      pod: withC('no-binary', { command: ['/no/such/binary'] }),
      expect: { phase: 'Running', states: ['RunContainerError', 'CrashLoopBackOff'] },
    },
    {
      name: 'exit-200-never',
      pod: withC('exit-200', { command: ['sh', '-c', 'exit 200'] }, { restartPolicy: 'Never' }),
      expect: { phase: 'Failed', state: 'Error', exitCode: 200 },
    },
    {
      name: 'exit-255-always',
      pod: withC('exit-255', { command: ['sh', '-c', 'exit 255'] }),
      expect: { phase: 'Running', state: 'CrashLoopBackOff' },
    },
    {
      name: 'init-fails-never',
      pod: pod('init-fails', {
        restartPolicy: 'Never',
        initContainers: [c({ name: 'init', command: ['sh', '-c', 'exit 3'] })],
      }),
      expect: { phase: 'Failed', container: 'init', state: 'Error', exitCode: 3 },
    },
    {
      name: 'activeDeadlineSeconds-1',
      pod: pod('deadline', { activeDeadlineSeconds: 1 }),
      expect: {
        phase: 'Failed',
        reason: 'DeadlineExceeded',
        message: 'Pod was active on the node longer than the specified deadline',
      },
    },

    // ---- names and shapes the apiserver would refuse (static pods, careless apiservers) ----
    {
      name: 'duplicate-container-names',
      pod: pod('dup-names', { containers: [c(), c()] }),
      expect: running,
    },
    {
      name: 'duplicate-container-ports',
      pod: withC('dup-ports', {
        ports: [
          { containerPort: 80, protocol: 'TCP' },
          { containerPort: 80, protocol: 'TCP' },
          { name: 'p', containerPort: 65535, protocol: 'UDP' },
        ],
      }),
      expect: running,
    },
    {
      name: 'duplicate-mount-paths',
      pod: withC(
        'dup-mounts',
        {
          volumeMounts: [
            { name: 'a', mountPath: '/data' },
            { name: 'b', mountPath: '/data' },
          ],
        },
        { volumes: [vol('a', { emptyDir: {} }), vol('b', { emptyDir: {} })] },
      ),
      expect: waiting('CreateContainerConfigError', 'duplicate mount path /data'),
    },
    {
      name: 'mount-of-undefined-volume',
      pod: withC('ghost-mount', { volumeMounts: [{ name: 'ghost', mountPath: '/g' }] }),
      expect: waiting(
        'CreateContainerConfigError',
        'cannot find volume "ghost" to mount into container "app"',
      ),
    },
    // <namespace>_<name>_<uid> exceeds NAME_MAX: upstream createPodSandbox fails making the
    // log directory (FailedCreatePodSandBox) and retries.
    {
      name: 'pod-name-253',
      pod: pod('n'.repeat(253), {}, { uid: randomUUID() }),
      expect: {
        phase: 'Pending',
        state: 'ContainerCreating',
        event: 'FailedCreatePodSandBox',
        message: 'too long',
      },
    },
    // A pod directory that cannot be made: upstream makePodDataDirs' event.
    {
      name: 'uid-300-chars',
      pod: pod('uid-long', {}, { uid: 'u'.repeat(300) }),
      expect: {
        phase: 'Pending',
        state: 'ContainerCreating',
        event: 'FailedToMakePodDataDirectories',
        message: 'error making pod data directories',
      },
    },
    // Names the kubelet joins into paths: refused before anything is written (upstream trusts
    // the apiserver's validation here and has no reason of its own).
    {
      name: 'container-name-traversal',
      pod: pod('cname-dots', { containers: [c({ name: `../../../${ESCAPE}-cname` })] }),
      expect: rejected('InvalidPod', 'container name'),
    },
    {
      name: 'init-container-name-traversal',
      pod: pod('icname-dots', { initContainers: [c({ name: '..' })] }),
      expect: rejected('InvalidPod', 'container name'),
    },
    {
      name: 'namespace-traversal',
      pod: pod('ns-dots', {}, { namespace: `../../../${ESCAPE}-ns` }),
      expect: rejected('InvalidPod', 'namespace'),
    },
    {
      name: 'uid-traversal',
      pod: pod('uid-dots', {}, { uid: `../../../${ESCAPE}-uid` }),
      expect: rejected('InvalidPod', 'uid'),
    },
    {
      name: 'volume-name-traversal',
      pod: withC(
        'vname-dots',
        { volumeMounts: [{ name: `../../${ESCAPE}-vol`, mountPath: '/v' }] },
        { volumes: [vol(`../../${ESCAPE}-vol`, { emptyDir: {} })] },
      ),
      expect: rejected('InvalidPod', 'volume name'),
    },

    // ---- subPath (the upstream subPath CVEs) ----
    {
      name: 'subPath-dotdot',
      pod: mounted(
        'subpath-up',
        { emptyDir: {} },
        { volumeMounts: [{ name: 'v', mountPath: '/v', subPath: `../${ESCAPE}` }] },
      ),
      expect: waiting('CreateContainerConfigError', "must not contain '..'"),
    },
    {
      name: 'subPath-absolute',
      pod: mounted(
        'subpath-abs',
        { emptyDir: {} },
        { volumeMounts: [{ name: 'v', mountPath: '/v', subPath: '/etc' }] },
      ),
      expect: waiting('CreateContainerConfigError', 'error SubPath `/etc` must not be an absolute path'),
    },
    {
      name: 'subPath-inner-dotdot',
      pod: mounted(
        'subpath-inner',
        { emptyDir: {} },
        { volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'a/../../b' }] },
      ),
      expect: waiting('CreateContainerConfigError', "must not contain '..'"),
    },
    {
      name: 'subPathExpr-to-dotdot',
      pod: mounted(
        'subpathexpr-up',
        { emptyDir: {} },
        {
          env: [{ name: 'EVIL', value: '..' }],
          volumeMounts: [{ name: 'v', mountPath: '/v', subPathExpr: '$(EVIL)' }],
        },
      ),
      expect: waiting('CreateContainerConfigError', "must not contain '..'"),
    },
    {
      name: 'subPathExpr-to-absolute',
      pod: mounted(
        'subpathexpr-abs',
        { emptyDir: {} },
        {
          env: [{ name: 'EVIL', value: '/etc' }],
          volumeMounts: [{ name: 'v', mountPath: '/v', subPathExpr: '$(EVIL)' }],
        },
      ),
      expect: waiting('CreateContainerConfigError', 'must not be an absolute path'),
    },

    // ---- volume item paths and keys (AtomicWriter validation) ----
    {
      name: 'configMap-item-dotdot',
      pod: mounted('cm-item-up', {
        configMap: { name: 'settings', items: [{ key: 'color', path: `../${ESCAPE}` }] },
      }),
      expect: failedMount("must not contain '..'"),
    },
    {
      name: 'configMap-item-absolute',
      pod: mounted('cm-item-abs', {
        configMap: { name: 'settings', items: [{ key: 'color', path: `/tmp/${ESCAPE}` }] },
      }),
      expect: failedMount('invalid path: must be relative path'),
    },
    {
      name: 'configMap-item-dotdot-prefix',
      pod: mounted('cm-item-dd', {
        configMap: { name: 'settings', items: [{ key: 'color', path: '..data/x' }] },
      }),
      expect: failedMount("must not start with '..'"),
    },
    {
      name: 'configMap-key-dotdot',
      pod: mounted('cm-key-up', { configMap: { name: 'evil-keys' } }),
      expect: failedMount(),
    },
    {
      name: 'secret-item-dotdot',
      pod: mounted('secret-item-up', {
        secret: { secretName: 'creds', items: [{ key: 'password', path: `a/../../${ESCAPE}` }] },
      }),
      expect: failedMount("must not contain '..'"),
    },
    {
      name: 'downwardAPI-item-dotdot',
      pod: mounted('dapi-item-up', {
        downwardAPI: { items: [{ path: `../${ESCAPE}`, fieldRef: { fieldPath: 'metadata.name' } }] },
      }),
      expect: failedMount("must not contain '..'"),
    },
    {
      name: 'projected-item-dotdot',
      pod: mounted('proj-item-up', {
        projected: {
          sources: [{ configMap: { name: 'settings', items: [{ key: 'color', path: `../${ESCAPE}` }] } }],
        },
      }),
      expect: failedMount("must not contain '..'"),
    },
    {
      name: 'configMap-1MiB',
      pod: mounted('cm-big', { configMap: { name: 'big' } }),
      expect: running,
    },
    {
      name: 'configMap-2000-keys',
      pod: mounted('cm-many', { configMap: { name: 'many' } }),
      expect: running,
    },
    {
      name: 'volume-without-source',
      pod: mounted('vol-none', {}),
      expect: failedMount(),
    },
    {
      name: 'volume-unsupported-nfs',
      pod: mounted('vol-nfs', { nfs: { server: '127.0.0.1', path: '/' } } as Parameters<typeof vol>[1]),
      expect: failedMount(),
    },
    {
      name: 'hostPath-socket-missing',
      pod: mounted('hp-sock', { hostPath: { path: `/nonexistent/${ESCAPE}.sock`, type: 'Socket' } }),
      expect: failedMount('hostPath type check failed'),
    },
    {
      name: 'hostPath-directory-is-file',
      pod: mounted('hp-dir', { hostPath: { path: '/etc/hostname', type: 'Directory' } }),
      expect: failedMount('hostPath type check failed'),
    },
    {
      name: 'hostPath-file-missing',
      pod: mounted('hp-file', { hostPath: { path: `/nonexistent/${ESCAPE}`, type: 'File' } }),
      expect: failedMount('hostPath type check failed'),
    },
    {
      name: 'emptyDir-bad-medium',
      pod: mounted('ed-medium', { emptyDir: { medium: 'Floppy' } as { medium: string } }),
      expect: failedMount(),
    },

    // ---- probes, DNS, hosts ----
    {
      name: 'probe-absurd-periods',
      pod: withC('probe-huge', {
        livenessProbe: {
          exec: { command: ['true'] },
          periodSeconds: 2_147_483_647,
          initialDelaySeconds: 2_147_483_647,
          timeoutSeconds: 2_147_483_647,
          failureThreshold: 2_147_483_647,
        },
        readinessProbe: {
          exec: { command: ['true'] },
          periodSeconds: 2_147_483_647,
          timeoutSeconds: 2_147_483_647,
        },
      }),
      expect: { phase: 'Running', state: 'running' },
    },
    {
      name: 'probe-zero-and-negative',
      pod: withC('probe-zero', {
        livenessProbe: {
          exec: { command: ['true'] },
          periodSeconds: 0,
          timeoutSeconds: -1,
          failureThreshold: 0,
        },
        readinessProbe: { exec: { command: ['true'] }, periodSeconds: -5, successThreshold: 0 },
      }),
      expect: { phase: 'Running', state: 'running' },
    },
    {
      name: 'probe-named-port-missing',
      pod: withC('probe-port', { livenessProbe: { tcpSocket: { port: 'nope' }, periodSeconds: 1 } }),
      expect: { event: 'Unhealthy' },
    },
    {
      name: 'dns-too-many-nameservers',
      pod: pod('dns-ns', {
        dnsPolicy: 'None',
        dnsConfig: { nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5'] },
      }),
      expect: { phase: 'Running', event: 'DNSConfigForming', message: 'Nameserver limits were exceeded' },
    },
    {
      name: 'dns-too-many-searches',
      pod: pod('dns-search', {
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['1.1.1.1'],
          searches: Array.from({ length: 40 }, (_, i) => `s${i}.example`),
        },
      }),
      expect: { phase: 'Running', event: 'DNSConfigForming', message: 'Search Line limits were exceeded' },
    },
    {
      name: 'hostAliases-garbage',
      pod: pod('host-aliases', {
        hostAliases: [
          { ip: 'not-an-ip', hostnames: ['a'] },
          { ip: '10.0.0.9', hostnames: ['x'.repeat(5000), 'evil\n1.2.3.4 kubernetes.default'] },
        ],
      }),
      expect: running,
    },
  ];
}
