import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { Pod } from '../../src/api/types.js';
import { CriClient } from '../../src/cri/client.js';
import { containerdEndpoint, eventually, images, repoRoot, uniqueName } from '../helpers/env.js';
import {
  adminRest,
  createPod,
  getPod,
  podPath,
  startKubelet,
  stopKubelet,
  waitPod,
} from '../helpers/kubelet.js';

// Static pods on the real apiserver and containerd (upstream pkg/kubelet/config file source,
// mirror_client.go): a manifest in staticPodPath runs, its mirror pod carries upstream's
// annotations and the pod's status, a deleted mirror is recreated, an edited manifest restarts
// the pod, a removed one kills it; and static pods run with no API server at all.

const node = uniqueName('kts-static');
let dir: string;
let rest: RestClient;
let cri: CriClient;
let webHash = '';

/** A static pod manifest; `hostPort` makes it a host-network pod declaring that port (as kubeadm's are). */
const manifest = (name: string, message: string, hostPort?: number): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(hostPort ? { hostNetwork: true } : {}),
      containers: [
        {
          name: 'main',
          image: images.busybox,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', `echo ${message}; exec sleep 3600`],
          ...(hostPort ? { ports: [{ containerPort: hostPort }] } : {}),
        },
      ],
    },
  });

/** Running CRI containers of a pod (by the pod UID label the kubelet puts on them). */
async function runningContainers(uid: string): Promise<string[]> {
  const cs = await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
  return cs.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.id);
}

async function anyContainers(uid: string): Promise<number> {
  return (await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).length;
}

const mirrorName = (name: string) => `${name}-${node}`;
const hashOf = (p: Pod) => p.metadata?.annotations?.['kubernetes.io/config.hash'] ?? '';
const runningId = (p: Pod) =>
  p.status?.containerStatuses?.[0]?.state?.running ? p.status.containerStatuses[0].containerID : undefined;

beforeAll(async () => {
  rest = await adminRest();
  cri = new CriClient({ endpoint: containerdEndpoint });
  dir = await mkdtemp(join(tmpdir(), 'kts-static-'));
  await stopKubelet();
  await startKubelet(node, { KUBELET_STATIC_POD_PATH: dir, KUBELET_FILE_CHECK_FREQUENCY: '5s' });
}, 300_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true }).catch(() => {});
  // The kubelet kills the pods of the removed manifests; give it a moment before stopping.
  await new Promise((r) => setTimeout(r, 3_000));
  await stopKubelet();
  for (const name of ['web', 'edit'])
    await rest?.delete(podPath('default', mirrorName(name))).catch(() => {});
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  rest?.close();
  cri?.close();
}, 120_000);

describe('static pods', () => {
  it('runs a dropped-in manifest and mirrors it with upstream annotations, owner and status', async () => {
    await writeFile(join(dir, 'web.json'), manifest('web', 'hello'));
    const mirror = await waitPod(
      rest,
      'default',
      mirrorName('web'),
      'the mirror pod running',
      (p) => !!runningId(p),
      90_000,
    );
    const a = mirror.metadata?.annotations ?? {};
    expect(a['kubernetes.io/config.source']).toBe('file');
    expect(a['kubernetes.io/config.hash']).toMatch(/^[0-9a-f]{32}$/);
    expect(a['kubernetes.io/config.mirror']).toBe(a['kubernetes.io/config.hash']);
    expect(Number.isNaN(Date.parse(a['kubernetes.io/config.seen'] ?? ''))).toBe(false);
    expect(mirror.spec?.nodeName).toBe(node);
    expect(mirror.spec?.tolerations).toContainEqual({ operator: 'Exists', effect: 'NoExecute' });
    expect(mirror.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'v1', kind: 'Node', name: node, controller: true }),
    ]);
    // The mirror has its own UID; the runtime runs the static pod's (the config.hash).
    expect(mirror.metadata?.uid).not.toBe(hashOf(mirror));
    expect(mirror.status?.phase).toBe('Running');
    webHash = hashOf(mirror);
    const running = await runningContainers(hashOf(mirror));
    expect(running).toHaveLength(1);
    expect(runningId(mirror)).toBe(`containerd://${running[0]}`);
  }, 120_000);

  it('recreates a deleted mirror pod without restarting the static pod', async () => {
    const before = await waitPod(rest, 'default', mirrorName('web'), 'the mirror pod', (p) => !!runningId(p));
    await rest.delete(podPath('default', mirrorName('web')));
    const after = await waitPod(
      rest,
      'default',
      mirrorName('web'),
      'a new mirror pod with the status',
      (p) => p.metadata?.uid !== before.metadata?.uid && !p.metadata?.deletionTimestamp && !!runningId(p),
      60_000,
    );
    expect(hashOf(after)).toBe(hashOf(before));
    expect(runningId(after)).toBe(runningId(before));
    expect(await runningContainers(hashOf(before))).toEqual([
      runningId(before)?.replace('containerd://', ''),
    ]);
  }, 90_000);

  it('a restarted kubelet adopts its static pods without restarting them, and keeps API pods with a nodeSelector', async () => {
    const api = await createPod(rest, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `api-${node}` },
      spec: {
        nodeName: node,
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image: images.busybox,
            imagePullPolicy: 'IfNotPresent',
            command: ['sleep', '3600'],
          },
        ],
      },
    });
    const apiBefore = await waitPod(
      rest,
      'default',
      `api-${node}`,
      'the API pod running',
      (p) => !!runningId(p),
      60_000,
    );
    const web = await waitPod(rest, 'default', mirrorName('web'), 'the mirror pod', (p) => !!runningId(p));
    await stopKubelet();
    await startKubelet(node, { KUBELET_STATIC_POD_PATH: dir, KUBELET_FILE_CHECK_FREQUENCY: '5s' });
    // A few sync passes of the new kubelet.
    await new Promise((r) => setTimeout(r, 8_000));
    const apiAfter = await getPod(rest, 'default', `api-${node}`);
    expect(apiAfter?.metadata?.uid).toBe(api.metadata?.uid);
    expect(apiAfter?.status?.phase).toBe('Running');
    expect(runningId(apiAfter as Pod)).toBe(runningId(apiBefore));
    expect(await runningContainers(hashOf(web))).toEqual([runningId(web)?.replace('containerd://', '')]);
    await rest.delete(podPath('default', `api-${node}`));
  }, 240_000);

  it('restarts the pod when its manifest changes, and kills it when the manifest is removed', async () => {
    // Host network with a declared port: the new version must not be refused for its predecessor's port.
    await writeFile(join(dir, 'edit.yaml'), manifest('edit', 'v1', 18089));
    const v1 = await waitPod(
      rest,
      'default',
      mirrorName('edit'),
      'v1 running',
      (p) => !!runningId(p),
      90_000,
    );
    await writeFile(join(dir, 'edit.yaml'), manifest('edit', 'v2', 18089));
    const v2 = await waitPod(
      rest,
      'default',
      mirrorName('edit'),
      'v2 running',
      (p) => hashOf(p) !== hashOf(v1) && !!runningId(p),
      90_000,
    );
    expect(runningId(v2)).not.toBe(runningId(v1));
    expect(v2.spec?.containers[0]?.command?.[2]).toContain('echo v2');
    await eventually('the v1 pod gone from the runtime', async () =>
      (await runningContainers(hashOf(v1))).length === 0 ? true : undefined,
    );

    await unlink(join(dir, 'edit.yaml'));
    await eventually(
      'the mirror pod deleted',
      async () => ((await getPod(rest, 'default', mirrorName('edit'))) ? undefined : true),
      60_000,
    );
    await eventually(
      'the static pod removed from the runtime',
      async () => ((await anyContainers(hashOf(v2))) === 0 ? true : undefined),
      60_000,
    );
  }, 240_000);
});

describe('static pods without an API server', () => {
  it('start although the API server is unreachable (how a control plane boots)', async () => {
    // Leave containerd as this file found it: the first kubelet removes its static pods first.
    await unlink(join(dir, 'web.json')).catch(() => {});
    if (webHash) {
      await eventually(
        'the web static pod removed',
        async () => ((await anyContainers(webHash)) === 0 ? true : undefined),
        60_000,
      );
    }
    await stopKubelet();
    const work = await mkdtemp(join(tmpdir(), 'kts-static-noapi-'));
    const manifests = join(work, 'manifests');
    await import('node:fs/promises').then((fs) => fs.mkdir(manifests));
    await writeFile(join(manifests, 'boot.json'), manifest('boot', 'no-api'));
    const kubeconfig = join(work, 'kubeconfig');
    await writeFile(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const config = join(work, 'config.yaml');
    await writeFile(
      config,
      [
        'apiVersion: kubelet.config.k8s.io/v1beta1',
        'kind: KubeletConfiguration',
        `containerRuntimeEndpoint: ${containerdEndpoint}`,
        'cgroupDriver: cgroupfs',
        'cgroupsPerQOS: false',
        'enforceNodeAllocatable: []',
        'failSwapOn: false',
        'failCgroupV1: false',
        `staticPodPath: ${manifests}`,
        'healthzPort: 20348',
        'port: 20350',
      ].join('\n'),
    );
    const noApiNode = uniqueName('kts-noapi');
    let out = '';
    const child: ChildProcess = spawn(
      process.execPath,
      [
        join(repoRoot, 'dist', 'src', 'main.js'),
        '--kubeconfig',
        kubeconfig,
        '--config',
        config,
        '--hostname-override',
        noApiNode,
        '--root-dir',
        join(work, 'root'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    let sandboxIds: string[] = [];
    try {
      const ids = await eventually(
        'the static pod running with no API server',
        async () => {
          const cs = await cri.listContainers({
            labelSelector: {
              'io.kubernetes.pod.name': `boot-${noApiNode}`,
              'io.kubernetes.pod.namespace': 'default',
            },
          });
          const running = cs.filter((c) => c.state === 'CONTAINER_RUNNING');
          sandboxIds = [...new Set(cs.map((c) => c.podSandboxId))];
          return running.length > 0 ? running : undefined;
        },
        90_000,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\nkubelet output:\n${out.slice(-4000)}`);
      });
      expect(ids).toHaveLength(1);
      expect(out).toContain('waiting for the API server at https://127.0.0.1:1/');
      const healthz = await fetch('http://127.0.0.1:20348/healthz');
      expect(await healthz.text()).toBe('ok');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      // kubelet-ts leaves pods running on SIGTERM: remove what this kubelet started.
      for (const id of sandboxIds) {
        await cri.stopPodSandbox(id).catch(() => {});
        await cri.removePodSandbox(id).catch(() => {});
      }
      await rm(work, { recursive: true, force: true }).catch(() => {});
    }
  }, 180_000);
});
