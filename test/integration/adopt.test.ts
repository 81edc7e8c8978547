import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { ConfigMap, Event, ObjectList, Pod } from '../../src/api/types.js';
import { CriClient } from '../../src/cri/client.js';
import { containerdEndpoint, eventually, images, localDir, uniqueName } from '../helpers/env.js';
import {
  adminRest,
  createNamespace,
  createPod,
  type NodeSetup,
  podPath,
  startKubeletWith,
  startUpstreamKubelet,
  stopKubelet,
  stopUpstreamKubelet,
  waitPod,
} from '../helpers/kubelet.js';

// Issue #19: swapping the kubelet binary on a node. The upstream kubelet (v1.37.2, built by
// hack/build-k8s.sh) and kubelet-ts take turns as the same node, with the same credentials,
// KubeletConfiguration, --root-dir and containerd. Pods started by one keep running under the
// other: same CRI sandbox and container IDs, restart counts 0, no Ready or phase flap in the API,
// no container events after the swap, and volumes the new kubelet updates are the ones the
// containers see.

const run = promisify(execFile);
const node = uniqueName('kts-adopt');
const ns = uniqueName('kts-adopt');
const HEALTHZ_PORT = 10468;
const criSocket = containerdEndpoint.replace(/^unix:\/\//, '');
let setup: NodeSetup;
let workDir = '';
let rest: RestClient;
let cri: CriClient;
let current: 'upstream' | 'ts' | undefined;

const CM = 'adopt-cfg';
const GOOD = 'Running/True';
const watchAc = new AbortController();
let watching: Promise<void> | undefined;
let watchError: unknown;
/** Per pod: phase/Ready/restart counts of every watch event once the pod was first Ready. */
const seen = new Map<string, string[]>();

/** SA token, configMap, projected (tmpfs) and emptyDir volumes; init container, native sidecar, probes. */
const fullPod = (name: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'adopt', 'kubelet-ts.test/swap': 'yes' } },
  spec: {
    nodeName: node,
    terminationGracePeriodSeconds: 2,
    volumes: [
      { name: 'cfg', configMap: { name: CM } },
      {
        name: 'proj',
        projected: {
          sources: [
            { configMap: { name: CM } },
            { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
          ],
        },
      },
      { name: 'scratch', emptyDir: {} },
    ],
    initContainers: [
      {
        name: 'init',
        image: images.busybox,
        imagePullPolicy: 'IfNotPresent',
        command: ['sh', '-c', 'echo ok > /data/ready'],
        volumeMounts: [{ name: 'scratch', mountPath: '/data' }],
      },
      {
        name: 'sidecar',
        image: images.busybox,
        imagePullPolicy: 'IfNotPresent',
        restartPolicy: 'Always',
        command: ['sleep', 'infinity'],
        startupProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
        volumeMounts: [{ name: 'scratch', mountPath: '/data' }],
      },
    ],
    containers: [
      {
        name: 'app',
        image: images.busybox,
        imagePullPolicy: 'IfNotPresent',
        command: ['sleep', 'infinity'],
        ports: [{ name: 'http', containerPort: 8080 }],
        // Burstable, and a resize policy that restarts: a kubelet that believed the resources
        // had changed (upstream's actuated-resources record) would restart the container.
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
        resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }],
        lifecycle: { preStop: { exec: { command: ['true'] } } },
        readinessProbe: { exec: { command: ['cat', '/data/ready'] }, periodSeconds: 2 },
        volumeMounts: [
          { name: 'cfg', mountPath: '/cfg' },
          { name: 'proj', mountPath: '/proj' },
          { name: 'scratch', mountPath: '/data' },
        ],
      },
    ],
  },
});

/** What the issue reported: busybox `sleep`, no volumes. */
const plainPod = (name: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeName: node,
    terminationGracePeriodSeconds: 2,
    containers: [
      { name: 'c', image: images.busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'] },
    ],
  },
});

const isReady = (p: Pod): boolean =>
  p.status?.phase === 'Running' &&
  (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function summary(p: Pod): string {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const counts = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
    .map((c) => `${c.name}=${c.restartCount}`)
    .join(',');
  return `${p.status?.phase}/${ready}/${counts}`;
}

/** The pod's sandboxes and containers as the CRI lists them: IDs, states, attempts, restart counts. */
async function criView(uid: string): Promise<string[]> {
  const selector = { labelSelector: { 'io.kubernetes.pod.uid': uid } };
  const sandboxes = await cri.listPodSandbox(selector);
  const containers = await cri.listContainers(selector);
  return [
    ...sandboxes.map((s) => `sandbox ${s.id} ${s.state} attempt=${s.metadata?.attempt}`),
    ...containers.map(
      (c) =>
        `${c.labels['io.kubernetes.container.name']} ${c.id} ${c.state} attempt=${c.metadata?.attempt} restartCount=${c.annotations['io.kubernetes.container.restartCount']}`,
    ),
  ].sort();
}

async function appContainer(uid: string, name = 'app'): Promise<string> {
  const cs = await cri.listContainers({
    labelSelector: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': name },
    state: { state: 'CONTAINER_RUNNING' },
  });
  const id = cs[0]?.id;
  if (!id) throw new Error(`no running ${name} container in pod ${uid}`);
  return id;
}

async function catIn(id: string, path: string): Promise<string> {
  const r = await cri.execSync(id, ['cat', path], 10);
  return r.exitCode === 0 ? Buffer.from(r.stdout).toString('utf8') : `exit ${r.exitCode}`;
}

function healthz(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: HEALTHZ_PORT, path: '/healthz', timeout: 2_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function stopCurrent(): Promise<void> {
  if (current === 'upstream') await stopUpstreamKubelet();
  if (current === 'ts') await stopKubelet();
  current = undefined;
}

/** Stops the running kubelet, starts the other one, waits until the new process is healthy. */
async function swapTo(next: 'upstream' | 'ts'): Promise<number> {
  await stopCurrent();
  const at = Date.now();
  current = next;
  if (next === 'upstream') await startUpstreamKubelet(setup);
  else await startKubeletWith(setup);
  await eventually(
    `the ${next} kubelet's healthz`,
    async () => ((await healthz()) ? true : undefined),
    60_000,
  );
  return at;
}

async function pods(): Promise<Pod[]> {
  return (await rest.get<ObjectList<Pod>>(podPath(ns))).items;
}

/** Creates pods, waits until they are Ready and then past upstream's 10 s restart grace. */
async function startPods(list: Pod[]): Promise<Map<string, string>> {
  for (const p of list) await createPod(rest, ns, p);
  const uids = new Map<string, string>();
  for (const p of list) {
    const name = p.metadata?.name ?? '';
    const ready = await waitPod(rest, ns, name, `${name} Ready`, isReady, 120_000);
    uids.set(name, ready.metadata?.uid ?? '');
  }
  await new Promise((r) => setTimeout(r, 12_000));
  return uids;
}

/** Everything the issue asks to stay the same across a swap, checked after the new kubelet ran a while. */
async function expectAdopted(uids: Map<string, string>, swappedAt: number, before: Map<string, string[]>) {
  // A pod created now must run: the new kubelet is syncing pods, not merely up.
  const canary = `canary-${current}`;
  await createPod(rest, ns, plainPod(canary));
  await waitPod(rest, ns, canary, `${canary} Ready`, isReady, 120_000);
  // Several syncs (syncFrequency 10s) and probe periods under the new kubelet.
  await new Promise((r) => setTimeout(r, 25_000));

  for (const [name, uid] of uids) {
    expect(await criView(uid), `${name}: CRI sandboxes and containers`).toEqual(before.get(name));
    const p = (await pods()).find((x) => x.metadata?.uid === uid);
    expect(p && isReady(p), `${name} Ready`).toBe(true);
    for (const c of [...(p?.status?.initContainerStatuses ?? []), ...(p?.status?.containerStatuses ?? [])]) {
      expect(c.restartCount, `${name}/${c.name} restartCount`).toBe(0);
    }
    expect(
      seen.get(name)?.filter((s) => !s.startsWith(GOOD) || /=[1-9]/.test(s)) ?? [],
      `${name} status flaps`,
    ).toEqual([]);
  }
  expect(watchError).toBeUndefined();

  // Upstream emits no pod or container event for pods it adopts after a restart.
  const events = (await rest.get<ObjectList<Event>>(`/api/v1/namespaces/${ns}/events`)).items.filter((e) => {
    const t = Date.parse(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '') || 0;
    return t >= Math.floor(swappedAt / 1000) * 1000 && uids.has(e.involvedObject?.name ?? '');
  });
  expect(events.map((e) => `${e.involvedObject?.name} ${e.reason}: ${e.message}`)).toEqual([]);
}

/** The new kubelet's volume updates reach the containers (no second tmpfs shadowing the first). */
async function expectVolumesLive(uids: Map<string, string>, value: string): Promise<void> {
  await rest.patch(`/api/v1/namespaces/${ns}/configmaps/${CM}`, { data: { v: value } }, 'merge');
  for (const [name, uid] of uids) {
    if (!name.startsWith('full')) continue;
    const id = await appContainer(uid);
    await eventually(
      `${name}: /cfg/v and /proj/v = ${value}`,
      async () =>
        (await catIn(id, '/cfg/v')) === value && (await catIn(id, '/proj/v')) === value ? true : undefined,
      120_000,
      1_000,
    );
    expect(await catIn(id, '/data/ready')).toBe('ok\n');
    expect((await catIn(id, '/proj/token')).split('.')).toHaveLength(3);
    expect((await catIn(id, '/var/run/secrets/kubernetes.io/serviceaccount/token')).split('.')).toHaveLength(
      3,
    );
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    const proj = `${setup.rootDir}/pods/${uid}/volumes/kubernetes.io~projected/proj`;
    expect(
      mountinfo.split('\n').filter((l) => l.split(' ')[4] === proj),
      `${proj} mounted once`,
    ).toHaveLength(1);
  }
}

async function snapshot(uids: Map<string, string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [name, uid] of uids) out.set(name, await criView(uid));
  return out;
}

function watchPods(fromVersion: string): void {
  watching = rest
    .watch<Pod>(
      podPath(ns),
      { resourceVersion: fromVersion, allowWatchBookmarks: false },
      (ev) => {
        const name = ev.object.metadata?.name ?? '';
        const list = seen.get(name);
        if (list) list.push(summary(ev.object));
        else if (isReady(ev.object)) seen.set(name, []);
      },
      { signal: watchAc.signal },
    )
    .catch((err: unknown) => {
      watchError = err;
    });
}

beforeAll(async () => {
  rest = await adminRest();
  cri = new CriClient({ endpoint: containerdEndpoint });
  workDir = await mkdtemp(join(tmpdir(), 'kts-adopt-'));
  setup = { node, config: join(workDir, 'config.yaml'), rootDir: `/var/lib/${node}`, criSocket };
  // One KubeletConfiguration for both binaries (upstream field names only).
  await writeFile(
    setup.config,
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://${criSocket}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
podLogsDir: /var/log/pods
port: 10460
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${HEALTHZ_PORT}
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${join(localDir, 'pki', 'ca.crt')} }
authorization:
  mode: Webhook
nodeStatusUpdateFrequency: 10s
syncFrequency: 10s
`,
  );
  await stopKubelet();
  await stopUpstreamKubelet();
  await createNamespace(rest, ns);
  await rest.create(`/api/v1/namespaces/${ns}/configmaps`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CM },
    data: { v: 'first' },
  } satisfies ConfigMap);
  const list = await rest.get<ObjectList<Pod>>(podPath(ns));
  watchPods(list.metadata?.resourceVersion ?? '0');
}, 300_000);

afterAll(async () => {
  watchAc.abort();
  await watching;
  await rest?.delete(`/api/v1/namespaces/${ns}`).catch(() => {});
  // Whichever kubelet runs terminates the pods (and tears their volumes down) before it stops.
  if (current) {
    await eventually(
      'namespace pods gone',
      async () => ((await pods()).length === 0 ? true : undefined),
      120_000,
    ).catch(() => {});
  }
  await stopKubelet().catch(() => {});
  await stopUpstreamKubelet().catch(() => {});
  current = undefined;
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  // Anything left (a failed run): tmpfs volumes first, then the root dir and the config.
  if (setup) {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(`${setup.rootDir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', [m]).catch(() => {});
    await rm(setup.rootDir, { recursive: true, force: true }).catch(() => {});
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
  cri?.close();
  rest?.close();
}, 300_000);

describe('swapping the kubelet binary in place (same node, root dir, config, containerd)', () => {
  let fromUpstream = new Map<string, string>();
  let fromTs = new Map<string, string>();

  it('kubelet-ts adopts the pods the upstream kubelet started: no restart, no flap', async () => {
    current = 'upstream';
    await startUpstreamKubelet(setup);
    fromUpstream = await startPods([fullPod('full-upstream'), plainPod('plain-upstream')]);
    const before = await snapshot(fromUpstream);
    const at = await swapTo('ts');
    await expectAdopted(fromUpstream, at, before);
    await expectVolumesLive(fromUpstream, 'under-kubelet-ts');
  }, 600_000);

  it('the upstream kubelet adopts the pods kubelet-ts started (and keeps the others): no restart, no flap', async () => {
    expect(current, 'kubelet-ts runs after the first swap').toBe('ts');
    fromTs = await startPods([fullPod('full-ts'), plainPod('plain-ts')]);
    const all = new Map([...fromUpstream, ...fromTs]);
    const before = await snapshot(all);
    const at = await swapTo('upstream');
    await expectAdopted(all, at, before);
    await expectVolumesLive(all, 'under-upstream');
  }, 600_000);
});
