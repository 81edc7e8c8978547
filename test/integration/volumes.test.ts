import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { Pod } from '../../src/api/types.js';
import { adminKubeconfigPath, eventually, images, k8sBin, uniqueName } from '../helpers/env.js';
import {
  adminRest,
  createNamespace,
  createPod,
  getPod,
  startKubelet,
  stopKubelet,
  waitPod,
} from '../helpers/kubelet.js';
import { bareId, runtimeClient } from '../helpers/runtime.js';

// Volumes, env and DNS of ordinary pods on kubelet-ts, through the real apiserver and containerd
// (issue #7 items 1–3): the projected service-account token reaches the apiserver, a Memory
// emptyDir is a sized tmpfs that is unmounted when the pod goes, env from configMap/secret/
// downward API, a downwardAPI volume, and the resolv.conf the runtime wrote from our DNS config.

const run = promisify(execFile);
const node = uniqueName('kts-vols');
const ns = uniqueName('kts-vols');
const instance = process.env.KUBELET_INSTANCE;
/** The kubelet root dir hack/kubelet.sh gives this instance. */
const rootDir = process.env.KUBELET_ROOT_DIR ?? `/var/lib/kubelet-ts${instance ? `-${instance}` : ''}`;
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
let rest: RestClient;

async function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(join(k8sBin, 'kubectl'), ['--kubeconfig', adminKubeconfigPath, '-n', ns, ...args], {
      timeout: 60_000,
    });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

const pod = (name: string, command: string[], extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: name, tier: 'test' } },
  spec: {
    nodeSelector: { 'kubernetes.io/hostname': node },
    terminationGracePeriodSeconds: 2,
    containers: [{ name: 'c', image: images.busybox, imagePullPolicy: 'IfNotPresent', command }],
    ...extra,
  },
});
const isRunning = (p: Pod) =>
  p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready === true;

/** Mount points at or below `dir` on the host. */
function hostMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  await startKubelet(node);
  await createNamespace(rest, ns);
  await rest.create(`/api/v1/namespaces/${ns}/configmaps`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings' },
    data: { color: 'blue', size: 'XL' },
  });
  await rest.create(`/api/v1/namespaces/${ns}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'creds' },
    stringData: { password: 'hunter2 ünïcode' },
  });
}, 300_000);

afterAll(async () => {
  await rest?.delete(`/api/v1/namespaces/${ns}`).catch(() => {});
  await eventually(
    'pods gone',
    async () =>
      (await rest.get<{ items: unknown[] }>(`/api/v1/namespaces/${ns}/pods`)).items.length === 0
        ? true
        : undefined,
    60_000,
  ).catch(() => {});
  await stopKubelet();
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  rest?.close();
}, 120_000);

describe('volumes, env and DNS on kubelet-ts', () => {
  it('a hostNetwork pod calls the apiserver with its projected service-account token', async () => {
    // The default service account may read pods in its namespace.
    await rest.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'default-view' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }],
    });
    // The apiserver listens on 127.0.0.1:6443 only: a hostNetwork pod reaches it. Busybox's own
    // TLS cannot talk to it ("TLS error from peer (alert code 40): handshake failure": it offers
    // no signature algorithm for the apiserver's ECDSA certificate), but busybox wget runs an
    // `openssl` from PATH when there is one: the host's, mounted read-only through hostPath
    // volumes. Busybox wget cannot be given a CA, so the server certificate is not checked; the
    // token is what is under test (the apiserver identifies the caller from it).
    const script = [
      `T=$(cat ${SA_DIR}/token)`,
      `NS=$(cat ${SA_DIR}/namespace)`,
      'echo "---pods"',
      'wget -q -O - --no-check-certificate --header "Authorization: Bearer $T" "https://127.0.0.1:6443/api/v1/namespaces/$NS/pods"',
      'echo; echo "---whoami"',
      `wget -q -O - --no-check-certificate --header "Authorization: Bearer $T" --header "Content-Type: application/json" --post-data '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' https://127.0.0.1:6443/apis/authentication.k8s.io/v1/selfsubjectreviews`,
      'echo; echo "---anonymous"',
      'wget -q -O - --no-check-certificate "https://127.0.0.1:6443/api/v1/namespaces/$NS/pods" 2>&1; echo "anonymous-exit=$?"',
    ].join('\n');
    const caller = pod('sa-caller', ['sh', '-c', script], {
      hostNetwork: true,
      restartPolicy: 'Never',
      volumes: [
        { name: 'openssl', hostPath: { path: '/usr/bin/openssl', type: 'File' } },
        { name: 'libs', hostPath: { path: '/usr/lib/x86_64-linux-gnu', type: 'Directory' } },
        { name: 'ld', hostPath: { path: '/usr/lib64', type: 'Directory' } },
      ],
    });
    caller.spec!.containers[0]!.volumeMounts = [
      { name: 'openssl', mountPath: '/usr/bin/openssl', readOnly: true },
      { name: 'libs', mountPath: '/lib/x86_64-linux-gnu', readOnly: true },
      { name: 'ld', mountPath: '/lib64', readOnly: true },
    ];
    await createPod(rest, ns, caller);
    const done = await waitPod(
      rest,
      ns,
      'sa-caller',
      'Succeeded',
      (p) => p.status?.phase === 'Succeeded',
      90_000,
    );
    expect(done.status?.podIP).toBeTruthy();

    // The default service-account volume was injected by admission and set up by us.
    const vol = done.spec?.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    expect(vol?.projected?.sources?.map((s) => Object.keys(s)[0])).toEqual([
      'serviceAccountToken',
      'configMap',
      'downwardAPI',
    ]);

    const out = (await kubectl('logs', 'sa-caller')).stdout;
    const section = (name: string) => out.split(`---${name}\n`)[1]?.split('\n---')[0]?.trim() ?? '';
    const pods = JSON.parse(section('pods')) as { kind: string; items: Pod[] };
    expect(pods.kind).toBe('PodList');
    expect(pods.items.map((p) => p.metadata?.name)).toContain('sa-caller');
    const review = JSON.parse(section('whoami')) as {
      status: { userInfo: { username: string; extra?: Record<string, string[]> } };
    };
    expect(review.status.userInfo.username).toBe(`system:serviceaccount:${ns}:default`);
    // A token bound to this very pod (TokenRequest with boundObjectRef).
    expect(review.status.userInfo.extra?.['authentication.kubernetes.io/pod-name']).toEqual(['sa-caller']);
    expect(review.status.userInfo.extra?.['authentication.kubernetes.io/pod-uid']).toEqual([
      done.metadata?.uid,
    ]);
    // Without the token the same request is refused.
    expect(section('anonymous')).toMatch(/40[13]/);
    expect(section('anonymous')).toMatch(/anonymous-exit=1$/);
  });

  it('an emptyDir medium Memory is a sized tmpfs in the pod and is unmounted on the host after deletion', async () => {
    const p = pod('mem', ['sleep', '3600'], {
      volumes: [{ name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '24Mi' } }],
    });
    p.spec!.containers[0]!.volumeMounts = [{ name: 'mem', mountPath: '/mem' }];
    p.spec!.containers[0]!.resources = { limits: { memory: '64Mi' } };
    await createPod(rest, ns, p);
    const running = await waitPod(rest, ns, 'mem', 'Running', isRunning, 90_000);
    const uid = running.metadata!.uid!;

    const inPod = await kubectl('exec', 'mem', '--', 'grep', ' /mem ', '/proc/mounts');
    expect(inPod.stdout).toMatch(/^tmpfs \/mem tmpfs rw,[^ ]*size=24576k/);
    expect((await kubectl('exec', 'mem', '--', 'sh', '-c', 'echo hi > /mem/f && cat /mem/f')).stdout).toBe(
      'hi\n',
    );

    const volDir = join(rootDir, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'mem');
    // The injected kube-api-access projected volume is a tmpfs too (upstream wraps projected,
    // secret and downwardAPI volumes in a Memory emptyDir).
    const projected = join(rootDir, 'pods', uid, 'volumes', 'kubernetes.io~projected');
    const mounts = hostMountsUnder(join(rootDir, 'pods', uid));
    expect(mounts).toContain(volDir);
    expect(
      mounts.filter((mp) => mp !== volDir).map((mp) => mp.startsWith(`${projected}/kube-api-access-`)),
    ).toEqual([true]);

    await rest.delete(`/api/v1/namespaces/${ns}/pods/mem`);
    await eventually('pod deleted', async () => ((await getPod(rest, ns, 'mem')) ? undefined : true), 60_000);
    await eventually(
      'tmpfs unmounted and pod dir removed',
      async () => (hostMountsUnder(join(rootDir, 'pods', uid)).length === 0 ? true : undefined),
      30_000,
    );
    expect(hostMountsUnder(rootDir).filter((mp) => mp.includes(uid))).toEqual([]);
  });

  it('env from configMap, secret and the downward API; a downwardAPI volume; resolv.conf', async () => {
    const p = pod('envs', ['sleep', '3600'], {
      volumes: [
        {
          name: 'podinfo',
          downwardAPI: {
            items: [
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
            ],
          },
        },
      ],
    });
    const c = p.spec!.containers[0]!;
    c.resources = { limits: { memory: '48Mi', cpu: '250m' } };
    c.envFrom = [{ prefix: 'CFG_', configMapRef: { name: 'settings' } }];
    c.env = [
      { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'color' } } },
      { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      { name: 'GREETING', value: '$(COLOR)-$(CFG_size) on $(NODE_NAME) $$(COLOR) $(UNDEFINED)' },
    ];
    c.volumeMounts = [{ name: 'podinfo', mountPath: '/etc/podinfo' }];
    await createPod(rest, ns, p);
    const running = await waitPod(rest, ns, 'envs', 'Running', isRunning, 90_000);

    const env = Object.fromEntries(
      (await kubectl('exec', 'envs', '--', 'env')).stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({
      CFG_color: 'blue',
      CFG_size: 'XL',
      COLOR: 'blue',
      PASSWORD: 'hunter2 ünïcode',
      POD_IP: running.status?.podIP,
      NODE_NAME: node,
      POD_NAMESPACE: ns,
      MEM_MI: '48',
      CPU_M: '250',
      GREETING: `blue-XL on ${node} $(COLOR) $(UNDEFINED)`,
      KUBERNETES_SERVICE_PORT: '443',
    });
    expect(env.OPTIONAL).toBeUndefined();
    expect(env.KUBERNETES_SERVICE_HOST).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    expect((await kubectl('exec', 'envs', '--', 'cat', '/etc/podinfo/labels')).stdout).toBe(
      'app="envs"\ntier="test"',
    );
    expect((await kubectl('exec', 'envs', '--', 'cat', '/etc/podinfo/name')).stdout).toBe('envs');
    expect((await kubectl('exec', 'envs', '--', 'readlink', '/etc/podinfo/labels')).stdout).toBe(
      '..data/labels\n',
    );
    const ro = await kubectl('exec', 'envs', '--', 'sh', '-c', 'echo x > /etc/podinfo/new');
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toMatch(/Read-only file system/);

    const resolv = (await kubectl('exec', 'envs', '--', 'cat', '/etc/resolv.conf')).stdout;
    expect(resolv).toMatch(/^nameserver 10\.96\.0\.10$/m);
    expect(resolv).toMatch(
      new RegExp(`^search ${ns}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local\\b`, 'm'),
    );
    expect(resolv).toMatch(/^options ndots:5$/m);
    const hosts = (await kubectl('exec', 'envs', '--', 'cat', '/etc/hosts')).stdout;
    expect(hosts).toMatch(/^# Kubernetes-managed hosts file\.\n/);
    expect(hosts).toContain(`${running.status?.podIP}\tenvs\n`);
  });

  it('keeps secret, projected token and downwardAPI volumes in memory: tmpfs in the container mountinfo', async () => {
    const p = pod('inmem', ['sleep', '3600'], {
      volumes: [
        { name: 'sec', secret: { secretName: 'creds' } },
        {
          name: 'dapi',
          downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] },
        },
        {
          name: 'proj',
          projected: {
            sources: [
              { secret: { name: 'creds' } },
              { serviceAccountToken: { path: 'tok', expirationSeconds: 3600, audience: 'kts-test' } },
            ],
          },
        },
        { name: 'cm', configMap: { name: 'settings' } },
      ],
    });
    const c = p.spec?.containers[0];
    if (c)
      c.volumeMounts = [
        { name: 'sec', mountPath: '/v/sec' },
        { name: 'dapi', mountPath: '/v/dapi' },
        { name: 'proj', mountPath: '/v/proj' },
        { name: 'cm', mountPath: '/v/cm' },
      ];
    await createPod(rest, ns, p);
    const running = await waitPod(rest, ns, 'inmem', 'Running', isRunning, 90_000);
    // Read the container's own /proc/self/mountinfo through the runtime (CRI ExecSync).
    const cri = runtimeClient();
    try {
      const id = bareId(running.status?.containerStatuses?.[0]?.containerID);
      const r = await cri.execSync(id, ['cat', '/proc/self/mountinfo'], 10);
      expect(r.exitCode).toBe(0);
      const fsType = new Map(
        r.stdout
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => [l.split(' ')[4] ?? '', l.split(' - ')[1]?.split(' ')[0] ?? ''] as const),
      );
      expect({
        sec: fsType.get('/v/sec'),
        dapi: fsType.get('/v/dapi'),
        proj: fsType.get('/v/proj'),
        token: fsType.get(SA_DIR),
      }).toEqual({ sec: 'tmpfs', dapi: 'tmpfs', proj: 'tmpfs', token: 'tmpfs' });
      // configMap volumes stay on the node's disk, as upstream (not secret material).
      expect(fsType.get('/v/cm')).toBeDefined();
      expect(fsType.get('/v/cm')).not.toBe('tmpfs');
      const secret = await cri.execSync(id, ['cat', '/v/proj/password'], 10);
      expect(secret.stdout.toString('utf8')).toBe('hunter2 ünïcode');
    } finally {
      cri.close();
    }
  });
});
