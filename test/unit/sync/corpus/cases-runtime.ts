import { randomUUID } from 'node:crypto';
import {
  c,
  ESCAPE,
  failedMount,
  type HostileCase,
  mounted,
  pod,
  rejected,
  running,
  vol,
  waiting,
  withC,
} from './helpers.js';

/** Processes, names, subPaths, volume items, probes, DNS and hosts. */
export function runtimeAndVolumeCases(): HostileCase[] {
  return [
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
