import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../src/api/rest.js';
import type { Event, Lease, Node, ObjectList, Pod } from '../../src/api/types.js';
import { eventually, images, localDir, repoRoot, uniqueName } from '../helpers/env.js';
import {
  adminRest,
  createNamespace,
  createPod,
  podPath,
  startKubelet,
  stopKubelet,
} from '../helpers/kubelet.js';
import { bareId, type RuntimeView, runtimeClient, runtimeView } from '../helpers/runtime.js';

// Faults against the real parts: the kubelet SIGKILLed and restarted, containerd stopped and
// restarted, the control plane (apiserver and etcd) stopped for a while. Each scenario checks
// the runtime through the CRI (container IDs, attempts) as well as the API, and logs what it
// measured. Everything is started and stopped through hack/, and restored in afterAll.

const run = promisify(execFile);
const node = uniqueName('kts-chaos');
const ns = uniqueName('kts-chaos');
const STEADY = 10;
const OUTAGE_MS = Number(process.env.KTS_CHAOS_OUTAGE_MS ?? 30_000);
const CONTAINERD_OUTAGE_MS = 45_000;
let rest: RestClient;
const cri = runtimeClient();
const measured: Record<string, number | string> = {};

async function hack(script: string, ...args: string[]): Promise<void> {
  await run('bash', [join(repoRoot, 'hack', script), ...args], { timeout: 600_000, maxBuffer: 64 << 20 });
}

const pod = (name: string, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeSelector: { 'kubernetes.io/hostname': node },
    terminationGracePeriodSeconds: 1,
    containers: [
      { name: 'c', image: images.busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', '36000'] },
    ],
    ...extra,
  },
});
const steadyNames = Array.from({ length: STEADY }, (_, i) => `steady-${i}`);

const ready = (p: Pod | undefined) =>
  p?.status?.phase === 'Running' &&
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

async function listPods(): Promise<Map<string, Pod>> {
  const l = await rest.get<ObjectList<Pod>>(podPath(ns));
  return new Map(l.items.map((p) => [p.metadata?.name ?? '', p]));
}

/** The runtime's view of every steady pod, by name. */
async function runtimeOf(pods: Map<string, Pod>): Promise<Record<string, RuntimeView>> {
  const out: Record<string, RuntimeView> = {};
  for (const name of steadyNames) out[name] = await runtimeView(cri, pods.get(name)?.metadata?.uid ?? '');
  return out;
}

async function waitAllReady(what: string, names: string[], timeoutMs = 120_000): Promise<Map<string, Pod>> {
  return eventually(
    what,
    async () => {
      const pods = await listPods();
      return names.every((n) => ready(pods.get(n))) ? pods : undefined;
    },
    timeoutMs,
    250,
  );
}

async function readyCondition() {
  const n = await rest.get<Node>(`/api/v1/nodes/${node}`);
  return n.status?.conditions?.find((c) => c.type === 'Ready');
}
const nodeReady = async () => (await readyCondition())?.status;

async function eventCounts(name: string, reason: string): Promise<number> {
  const l = await rest.get<ObjectList<Event>>(`/api/v1/namespaces/${ns}/events`, {
    query: { fieldSelector: `involvedObject.name=${name},reason=${reason}` },
  });
  return l.items.reduce((n, e) => n + (e.count ?? 1), 0);
}

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  await startKubelet(node);
  await createNamespace(rest, ns);
  for (const name of steadyNames) await createPod(rest, ns, pod(name));
  await createPod(
    rest,
    ns,
    pod('flaky', {
      containers: [
        {
          name: 'c',
          image: images.busybox,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'touch /tmp/healthy; sleep 36000'],
          livenessProbe: {
            exec: { command: ['cat', '/tmp/healthy'] },
            periodSeconds: 1,
            failureThreshold: 2,
          },
        },
      ],
    }),
  );
  await waitAllReady('every chaos pod Ready', [...steadyNames, 'flaky'], 180_000);
}, 600_000);

afterAll(async () => {
  // Whatever failed, leave containerd and the control plane running for the next file.
  await hack('containerd.sh', 'up').catch((err) => console.error(`containerd up failed: ${err}`));
  await hack('control-plane.sh', 'up').catch((err) => console.error(`control plane up failed: ${err}`));
  await rest?.delete(`/api/v1/namespaces/${ns}`).catch(() => {});
  await eventually(
    'namespace pods gone',
    async () => ((await rest.get<ObjectList<Pod>>(podPath(ns))).items.length === 0 ? true : undefined),
    90_000,
  ).catch(() => {});
  await stopKubelet();
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  rest?.close();
  cri.close();
  console.log(`chaos measurements: ${JSON.stringify(measured)}`);
}, 900_000);

describe('chaos against the real kubelet, containerd and control plane', () => {
  it('kubelet SIGKILLed and restarted: every pod keeps its sandbox and container, no duplicate events', async () => {
    const before = await listPods();
    const rtBefore = await runtimeOf(before);
    const startedBefore = await Promise.all(steadyNames.map((n) => eventCounts(n, 'Started')));
    expect(startedBefore).toEqual(steadyNames.map(() => 1));

    const pid = Number(readFileSync(join(localDir, 'run', 'kubelet.pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    await eventually('the kubelet process gone', async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    // The pods run on without a kubelet.
    expect(await runtimeOf(before)).toEqual(rtBefore);

    const t0 = Date.now();
    await startKubelet(node);
    // The Node still says Ready from before: wait for the new kubelet's first Lease renewal.
    await eventually(
      'a Lease renewal by the new kubelet',
      async () => {
        const lease = await rest.get<Lease>(
          `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`,
        );
        return Date.parse(lease.spec?.renewTime ?? '') >= t0 - 1_000 ? true : undefined;
      },
      60_000,
    );
    const nodeReadyMs = Date.now() - t0;
    // Past a full resync and several relists of the new kubelet.
    await new Promise((r) => setTimeout(r, 8_000));
    const after = await waitAllReady('pods Ready after the restart', steadyNames);
    const recoveredMs = Date.now() - t0;

    expect(await runtimeOf(after)).toEqual(rtBefore);
    for (const n of steadyNames) {
      const cs = after.get(n)?.status?.containerStatuses?.[0];
      expect([n, bareId(cs?.containerID), cs?.restartCount]).toEqual([n, rtBefore[n]?.containers[0]?.id, 0]);
      expect(after.get(n)?.status?.startTime).toBe(before.get(n)?.status?.startTime);
    }
    expect(await Promise.all(steadyNames.map((n) => eventCounts(n, 'Started')))).toEqual(startedBefore);
    expect(await Promise.all(steadyNames.map((n) => eventCounts(n, 'Killing')))).toEqual(
      steadyNames.map(() => 0),
    );
    measured.kubeletRestartLeaseRenewedMs = nodeReadyMs;
    measured.kubeletRestartPodsConfirmedMs = recoveredMs;
    console.log(
      `kubelet SIGKILL: new kubelet renewed its Lease ${nodeReadyMs} ms after start began; statuses confirmed after ${recoveredMs} ms; ${STEADY} pods unchanged`,
    );
  });

  it('containerd stopped and restarted: the kubelet recovers, recreates nothing, starts a pod made meanwhile', async () => {
    const before = await listPods();
    const rtBefore = await runtimeOf(before);
    const seen: string[] = [];
    const ac = new AbortController();
    const watching = rest
      .watch<Pod>(
        podPath(ns),
        { resourceVersion: (await rest.get<ObjectList<Pod>>(podPath(ns))).metadata?.resourceVersion },
        (ev) => {
          const p = ev.object;
          const cs = p.status?.containerStatuses?.[0];
          if (steadyNames.includes(p.metadata?.name ?? '') && (!cs?.state?.running || cs.ready !== true))
            seen.push(`${p.metadata?.name}: ${JSON.stringify(cs?.state)} ready=${cs?.ready}`);
        },
        { signal: ac.signal },
      )
      .catch(() => {});

    const t0 = Date.now();
    await hack('containerd.sh', 'down');
    try {
      // A pod created while the runtime is away.
      await createPod(rest, ns, pod('late'));
      // Upstream: "container runtime is down" once the last good runtime check is 30 s old,
      // posted with the next node status (10 s).
      let notReady: { ms: number; message?: string } | undefined;
      const until = Date.now() + CONTAINERD_OUTAGE_MS;
      while (Date.now() < until) {
        if (notReady === undefined) {
          const c = await readyCondition();
          if (c?.status === 'False') notReady = { ms: Date.now() - t0, message: c.message };
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      measured.containerdDownNodeNotReadyMs = notReady?.ms ?? `stayed Ready for ${CONTAINERD_OUTAGE_MS} ms`;
      expect(notReady?.message).toContain('container runtime is down');
    } finally {
      await hack('containerd.sh', 'up');
    }
    const t1 = Date.now();
    await eventually('node Ready', async () => ((await nodeReady()) === 'True' ? true : undefined), 60_000);
    const nodeBackMs = Date.now() - t1;
    const after = await waitAllReady('pods Ready, the late one started', [...steadyNames, 'late']);
    const lateMs = Date.now() - t1;
    ac.abort();
    await watching;

    expect(await runtimeOf(after)).toEqual(rtBefore);
    for (const n of steadyNames)
      expect([n, after.get(n)?.status?.containerStatuses?.[0]?.restartCount]).toEqual([n, 0]);
    expect(seen).toEqual([]);
    measured.containerdBackNodeReadyMs = nodeBackMs;
    measured.containerdBackLatePodReadyMs = lateMs;
    console.log(
      `containerd stopped ${CONTAINERD_OUTAGE_MS} ms: NotReady after ${measured.containerdDownNodeNotReadyMs} ms; Ready ${nodeBackMs} ms and the late pod Ready ${lateMs} ms after containerd returned`,
    );
  });

  it('control plane (apiserver + etcd) down: pods keep running, liveness still restarts, status catches up', async () => {
    const before = await listPods();
    const rtBefore = await runtimeOf(before);
    const flaky = before.get('flaky');
    const flakyUid = flaky?.metadata?.uid ?? '';
    const flakyId = bareId(flaky?.status?.containerStatuses?.[0]?.containerID);
    // (The liveness probe may have failed while containerd was away: count from here.)
    const restarts0 = flaky?.status?.containerStatuses?.[0]?.restartCount ?? 0;
    const attempt0 =
      (await runtimeView(cri, flakyUid)).containers.find((c) => c.id === flakyId)?.attempt ?? -1;
    expect(attempt0).toBe(restarts0);

    const t0 = Date.now();
    await hack('control-plane.sh', 'down');
    const stoppedMs = Date.now() - t0;
    let restartedAt = 0;
    let brokenAt = 0;
    try {
      // Make the liveness probe fail while nobody can be told about it.
      const r = await cri.execSync(flakyId, ['rm', '-f', '/tmp/healthy'], 10);
      expect(r.exitCode).toBe(0);
      brokenAt = Date.now();
      const until = t0 + OUTAGE_MS;
      while (Date.now() < until) {
        const v = await runtimeView(cri, flakyUid);
        if (
          !restartedAt &&
          v.containers.some((c) => c.attempt === attempt0 + 1 && c.state === 'CONTAINER_RUNNING')
        )
          restartedAt = Date.now();
        await new Promise((res) => setTimeout(res, 500));
      }
      // Pods ran on through the outage.
      expect(await runtimeOf(before)).toEqual(rtBefore);
    } finally {
      await hack('control-plane.sh', 'up');
    }
    if (!restartedAt)
      console.log(`flaky in the runtime: ${JSON.stringify(await runtimeView(cri, flakyUid))}`);
    expect(restartedAt).toBeGreaterThan(0);
    const t1 = Date.now();
    const caught = await eventually(
      'flaky restartCount +1 in the API',
      async () => {
        const p = (await listPods()).get('flaky');
        return p?.status?.containerStatuses?.[0]?.restartCount === restarts0 + 1 ? p : undefined;
      },
      120_000,
      250,
    );
    const catchUpMs = Date.now() - t1;
    const v = await runtimeView(cri, flakyUid);
    const running = v.containers.find((c) => c.state === 'CONTAINER_RUNNING');
    expect(running?.attempt).toBe(attempt0 + 1);
    expect(bareId(caught.status?.containerStatuses?.[0]?.containerID)).toBe(running?.id);
    const after = await waitAllReady('steady pods Ready after the outage', steadyNames);
    expect(await runtimeOf(after)).toEqual(rtBefore);
    measured.outageMs = OUTAGE_MS;
    measured.controlPlaneStopMs = stoppedMs;
    measured.livenessRestartAfterProbeBrokenMs = restartedAt - brokenAt;
    measured.statusCatchUpAfterApiserverMs = catchUpMs;
    console.log(
      `control plane down ${OUTAGE_MS} ms (stopping it took ${stoppedMs} ms): liveness restart ${restartedAt - brokenAt} ms after the probe broke; status caught up ${catchUpMs} ms after the apiserver was back`,
    );
  });
});
