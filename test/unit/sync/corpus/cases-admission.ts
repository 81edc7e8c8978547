import { c, type HostileCase, pod, printable, rejected, running, waiting, withC } from './helpers.js';

/** Admission, images, env and security context: refused with a reason before or at container creation. */
export function admissionAndConfigCases(): HostileCase[] {
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
  ];
}
