import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { Event, Lease, Node, ObjectList, Pod } from '../../src/api/types.js';
import { eventually, images, uniqueName } from '../helpers/env.js';
import {
  adminRest,
  createNamespace,
  createPod,
  getPod,
  podPath,
  startKubelet,
  stopKubelet,
  waitPod,
} from '../helpers/kubelet.js';
import { bareId, runtimeClient, runtimeView } from '../helpers/runtime.js';

// kubelet-ts as a real node: the real apiserver, scheduler and controllers, the real containerd.

const node = uniqueName('kts-it');
const ns = uniqueName('kts-it');
let rest: RestClient;
const cri = runtimeClient();
const dirs: string[] = [];

const busybox = (name: string, command: string[], extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeSelector: { 'kubernetes.io/hostname': node },
    terminationGracePeriodSeconds: 5,
    containers: [{ name: 'c', image: images.busybox, imagePullPolicy: 'IfNotPresent', command }],
    ...extra,
  },
});

const running = (p: Pod) =>
  p.status?.phase === 'Running' &&
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  await startKubelet(node);
  await createNamespace(rest, ns);
}, 300_000);

afterAll(async () => {
  await rest?.delete(`/api/v1/namespaces/${ns}`).catch(() => {});
  // Let the kubelet terminate the namespace's pods before it stops.
  await eventually(
    'namespace pods gone',
    async () => ((await rest.get<ObjectList<Pod>>(podPath(ns))).items.length === 0 ? true : undefined),
    60_000,
  ).catch(() => {});
  await stopKubelet();
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  rest?.close();
  cri.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe('kubelet-ts as a node', () => {
  it('registers a Ready node with upstream labels, nodeInfo and a Lease', async () => {
    const n = await rest.get<Node>(`/api/v1/nodes/${node}`);
    expect(n.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': node,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
    });
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
    });
    expect(n.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
    expect(n.status?.nodeInfo?.kubeletVersion).toBe('v1.37.2');
    expect(n.status?.capacity).toHaveProperty('cpu');
    expect(n.status?.allocatable).toHaveProperty('pods', '110');
    const lease = await rest.get<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`,
    );
    expect(lease.spec?.holderIdentity).toBe(node);
    expect(lease.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: node });
  });

  it('runs a Deployment of the busybox image to Running and Ready on our node', async () => {
    await rest.create(`/apis/apps/v1/namespaces/${ns}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': node },
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'web',
                image: images.busybox,
                command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
              },
            ],
          },
        },
      },
    });
    const pods = await eventually(
      'two Running and Ready pods',
      async () => {
        const list = await rest.get<ObjectList<Pod>>(podPath(ns), { query: { labelSelector: 'app=web' } });
        return list.items.length === 2 && list.items.every(running) ? list.items : undefined;
      },
      90_000,
    );
    for (const p of pods) {
      expect(p.spec?.nodeName).toBe(node);
      expect(p.status?.podIP).toMatch(/^10\.244\.7\./);
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ ready: true, started: true, restartCount: 0 });
      expect(p.status?.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      expect(p.status?.qosClass).toBe('BestEffort');
    }
    const events = await rest.get<ObjectList<Event>>(`/api/v1/namespaces/${ns}/events`, {
      query: { fieldSelector: `involvedObject.name=${pods[0]!.metadata!.name}` },
    });
    const reasons = events.items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'Pulled', 'Created', 'Started']));
  });

  it('reports Succeeded and Failed per exit code under restartPolicy Never', async () => {
    await createPod(rest, ns, busybox('ok', ['sh', '-c', 'exit 0'], { restartPolicy: 'Never' }));
    await createPod(
      rest,
      ns,
      busybox('bad', ['sh', '-c', 'echo bye > /dev/termination-log; exit 3'], { restartPolicy: 'Never' }),
    );
    await waitPod(rest, ns, 'ok', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    const bad = await waitPod(rest, ns, 'bad', 'Failed', (p) => p.status?.phase === 'Failed');
    expect(bad.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
      message: 'bye\n',
    });
    expect(bad.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodFailed',
    });
  });

  it('shows a crashing container as CrashLoopBackOff with a growing back-off', async () => {
    await createPod(rest, ns, busybox('crash', ['sh', '-c', 'exit 1']));
    const first = await waitPod(
      rest,
      ns,
      'crash',
      'CrashLoopBackOff',
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    expect(first.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(
      /^back-off 10s restarting failed container=c pod=crash_/,
    );
    expect(first.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({
      exitCode: 1,
      reason: 'Error',
    });
    const later = await waitPod(
      rest,
      ns,
      'crash',
      'back-off 20s',
      (p) => /^back-off 20s /.test(p.status?.containerStatuses?.[0]?.state?.waiting?.message ?? ''),
      60_000,
    );
    expect(later.status?.containerStatuses?.[0]?.restartCount).toBeGreaterThanOrEqual(2);
  });

  it('shows ErrImagePull, then ImagePullBackOff, for a missing image', async () => {
    const pod = busybox('noimage', ['sleep', '3600']);
    pod.spec!.containers[0]!.image = images.missing;
    await createPod(rest, ns, pod);
    await waitPod(
      rest,
      ns,
      'noimage',
      'ErrImagePull',
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull',
    );
    const p = await waitPod(
      rest,
      ns,
      'noimage',
      'ImagePullBackOff',
      (x) => x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    expect(p.status?.phase).toBe('Pending');
    expect(p.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain(
      `Back-off pulling image "${images.missing}"`,
    );
  });

  it('mounts the service-account token, CA and namespace into a pod of a fresh namespace', async () => {
    const cmd =
      'd=/var/run/secrets/kubernetes.io/serviceaccount; test -s $d/token && grep -q "BEGIN CERTIFICATE" $d/ca.crt && echo ns=$(cat $d/namespace)';
    const created = await createPod(rest, ns, busybox('sa', ['sh', '-c', cmd], { restartPolicy: 'Never' }));
    const p = await waitPod(
      rest,
      ns,
      'sa',
      'Succeeded',
      (x) => x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed',
    );
    expect(p.status?.phase).toBe('Succeeded');
    const log = await readFile(`/var/log/pods/${ns}_sa_${created.metadata?.uid}/c/0.log`, 'utf8');
    expect(log).toMatch(new RegExp(`stdout F ns=${ns}\\n`));
    expect(p.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-'))).toBe(true);
  });

  it('terminates a deleted pod with SIGTERM, waits out its handler within the grace period, and the Pod disappears', async () => {
    // The container traps SIGTERM, writes a marker, keeps running 3 s more and writes a second
    // marker: an immediate SIGKILL leaves neither, a SIGTERM without the grace period only the first.
    const out = mkdtempSync(join(tmpdir(), 'kts-it-grace-'));
    dirs.push(out);
    const spec = busybox(
      'del',
      [
        'sh',
        '-c',
        'trap "echo term > /out/term; sleep 3; echo done > /out/done; exit 0" TERM; echo up > /out/up; sleep 3600 & wait',
      ],
      {
        terminationGracePeriodSeconds: 20,
        volumes: [{ name: 'out', hostPath: { path: out, type: 'Directory' } }],
      },
    );
    for (const c of spec.spec?.containers ?? []) c.volumeMounts = [{ name: 'out', mountPath: '/out' }];
    await createPod(rest, ns, spec);
    const p = await waitPod(rest, ns, 'del', 'Running', running);
    await eventually('the container is up', async () => (existsSync(join(out, 'up')) ? true : undefined));
    const id = bareId(p.status?.containerStatuses?.[0]?.containerID);
    const t0 = Date.now();
    await rest.delete(podPath(ns, 'del'));
    await eventually(
      'pod gone from the API',
      async () => ((await getPod(rest, ns, 'del')) ? undefined : true),
      30_000,
    );
    const elapsed = Date.now() - t0;
    expect(readFileSync(join(out, 'term'), 'utf8')).toBe('term\n');
    expect(readFileSync(join(out, 'done'), 'utf8')).toBe('done\n');
    // Well inside the 20 s grace period: the kubelet did not wait for a SIGKILL deadline.
    expect(elapsed).toBeLessThan(15_000);
    const left = (await runtimeView(cri, p.metadata?.uid ?? '')).containers.find((c) => c.id === id);
    expect(left?.state ?? 'CONTAINER_EXITED').toBe('CONTAINER_EXITED');
  });

  it('restarts no container when the kubelet restarts (the runtime keeps the same sandbox and container)', async () => {
    await createPod(rest, ns, busybox('steady', ['sleep', '3600']));
    const before = await waitPod(rest, ns, 'steady', 'Running', running);
    const uid = before.metadata?.uid ?? '';
    const id = bareId(before.status?.containerStatuses?.[0]?.containerID);
    const rtBefore = await runtimeView(cri, uid);
    expect(rtBefore.containers.map((c) => [c.id, c.attempt, c.state])).toEqual([
      [id, 0, 'CONTAINER_RUNNING'],
    ]);
    expect(rtBefore.sandboxes.map((s) => s.state)).toEqual(['SANDBOX_READY']);
    await stopKubelet();
    await startKubelet(node);
    // Give the new kubelet a few sync passes (resync, PLEG relists, housekeeping).
    await new Promise((r) => setTimeout(r, 6_000));
    const after = await waitPod(rest, ns, 'steady', 'Running', running);
    // The runtime is the ground truth: same sandbox, same container, nothing new created.
    expect(await runtimeView(cri, uid)).toEqual(rtBefore);
    expect(bareId(after.status?.containerStatuses?.[0]?.containerID)).toBe(id);
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(after.status?.startTime).toBe(before.status?.startTime);
  });
});
