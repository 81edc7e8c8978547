import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestClient } from '../../../src/api/rest.js';
import type { Event, Lease, Node, ObjectList, Pod } from '../../../src/api/types.js';
import { eventually, images, uniqueName } from '../../helpers/env.js';
import {
  type CgroupDriver,
  containerScopeDir,
  cpuWeightFromShares,
  guestContainerCgroupDir,
  guestExists,
  guestJournal,
  guestMeminfo,
  guestReadFile,
  guestReadFiles,
  guestSh,
  milliCpuToShares,
  podCgroupDir,
  runtimeId,
  startGuest,
  stopGuest,
} from '../../helpers/guest.js';
import { adminRest, createNamespace, createPod, getPod, podPath, waitPod } from '../../helpers/kubelet.js';

// kubelet-ts on a real cgroup v2 Linux node: a Debian guest under qemu (hack/node-vm.sh) with
// containerd and kubelet-ts as systemd services, joined to the host's control plane through
// 10.0.2.2. Everything is read back from the guest itself (/sys/fs/cgroup, /proc, ctr).
//
// The QoS cgroup hierarchy (src/cgroups, systemd driver) and node-pressure eviction
// (src/eviction) groups run by default; KTS_GUEST_QOS=0 / KTS_GUEST_EVICTION=0 switch them off
// when only the basic node checks are wanted.
const flag = (env: string) => process.env[env] !== '0';
const QOS_CGROUPS = flag('KTS_GUEST_QOS');
const EVICTION = flag('KTS_GUEST_EVICTION');

// containerd with SystemdCgroup = true needs a systemd cgroup_parent for every sandbox (runc
// refuses an empty one: `expected cgroupsPath to be of format "slice:prefix:name"`), so without
// the QoS hierarchy the guest runs containerd and the kubelet with the cgroupfs driver.
const driver: CgroupDriver = QOS_CGROUPS ? 'systemd' : 'cgroupfs';

const node = uniqueName('kts-vm');
const ns = uniqueName('kts-vm');
const PIDS_LIMIT = 1024;
const EVICTION_MEMORY_AVAILABLE_MI = 1000;
let rest: RestClient;

const pod = (
  name: string,
  command: string[],
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> },
  extra: Partial<NonNullable<Pod['spec']>> = {},
): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeSelector: { 'kubernetes.io/hostname': node },
    terminationGracePeriodSeconds: 2,
    containers: [
      {
        name: 'c',
        image: images.busybox,
        imagePullPolicy: 'IfNotPresent',
        command,
        ...(resources && { resources }),
      },
    ],
    ...extra,
  },
});

const running = (p: Pod) =>
  p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running !== undefined;

/** Waits for Running; on failure the error carries the guest kubelet's journal. */
async function waitRunning(name: string, timeoutMs = 120_000): Promise<Pod> {
  try {
    return await waitPod(rest, ns, name, `${name} Running on ${node}`, running, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- guest kubelet journal:\n${await guestJournal(node)}`);
  }
}

/** Adds the guest's memory figures and kubelet journal to a failure. */
async function withGuestDiagnostics<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const pressure = await rest
      .get<Node>(`/api/v1/nodes/${node}`)
      .then((n) => JSON.stringify(n.status?.conditions?.find((c) => c.type === 'MemoryPressure')))
      .catch((e: Error) => e.message);
    const free = await guestSh(
      node,
      'free -m; grep -E "^(MemFree|Inactive.file.|MemAvailable)" /proc/meminfo',
    ).catch((e: Error) => e.message);
    throw new Error(
      `${(err as Error).message}\n--- node MemoryPressure: ${pressure}\n--- guest memory:\n${free}\n--- guest kubelet journal:\n${await guestJournal(node)}`,
    );
  }
}

async function deletePodAndWait(name: string): Promise<void> {
  await rest.delete(podPath(ns, name)).catch(() => {});
  await eventually(
    `${name} deleted`,
    async () => ((await getPod(rest, ns, name)) ? undefined : true),
    90_000,
  );
}

beforeAll(async () => {
  rest = await adminRest();
  await startGuest(node, {
    cgroupDriver: driver,
    kubeletConfig: {
      podPidsLimit: PIDS_LIMIT,
      // Low enough never to fire at idle (the guest has ~1.9 GiB, ~1.5 GiB available with the
      // test pods), high enough that a modest hog crosses it: under TCG the hog fills its memory
      // at only ~20-60 MB/s, and the kernel's own OOM killer must stay out of it.
      evictionHard: {
        'memory.available': `${EVICTION_MEMORY_AVAILABLE_MI}Mi`,
        'nodefs.available': '5%',
        'nodefs.inodesFree': '2%',
        'imagefs.available': '5%',
      },
      evictionPressureTransitionPeriod: '20s',
    },
  });
  await createNamespace(rest, ns);
}, 1_200_000);

afterAll(async () => {
  // The guest goes away with its pods: stop it first, then remove what the API still holds.
  await stopGuest(node).catch(() => {});
  if (!rest) return;
  const pods = await rest.get<ObjectList<Pod>>(podPath(ns)).catch(() => undefined);
  for (const p of pods?.items ?? []) {
    await rest.delete(podPath(ns, p.metadata!.name!), { gracePeriodSeconds: 0 }).catch(() => {});
  }
  await rest.delete(`/api/v1/namespaces/${ns}`).catch(() => {});
  await rest.delete(`/api/v1/nodes/${node}`).catch(() => {});
  rest.close();
}, 120_000);

describe('kubelet-ts on a cgroup v2 node VM', () => {
  it('joins the host control plane through 10.0.2.2 as a Ready node', async () => {
    const n = await rest.get<Node>(`/api/v1/nodes/${node}`);
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
    });
    expect(n.status?.addresses).toEqual(
      expect.arrayContaining([{ type: 'InternalIP', address: '10.0.2.15' }]),
    );
    expect(n.status?.nodeInfo).toMatchObject({
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      kernelVersion: expect.stringMatching(/-cloud-amd64$/),
      containerRuntimeVersion: expect.stringMatching(/^containerd:\/\/1\.6\./),
      kubeletVersion: 'v1.37.2',
    });
    const lease = await rest.get<Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`,
    );
    expect(lease.spec?.holderIdentity).toBe(node);
    // The kubelet reaches the apiserver at the host's loopback, as qemu's user network maps it.
    expect(await guestReadFile(node, '/opt/kubelet-ts/etc/kubeconfig')).toContain(
      'server: https://10.0.2.2:6443',
    );
  });

  it('mounts cgroup v2 with every controller, and runs containerd and kubelet-ts under systemd', async () => {
    expect((await guestSh(node, 'stat -fc %T /sys/fs/cgroup')).trim()).toBe('cgroup2fs');
    const controllers = (await guestReadFile(node, '/sys/fs/cgroup/cgroup.controllers')).trim().split(' ');
    expect(controllers).toEqual(
      expect.arrayContaining(['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']),
    );
    // No cgroup v1 hierarchy anywhere: the unified hierarchy is the only one.
    expect(await guestReadFile(node, '/proc/self/mountinfo')).not.toMatch(/ - cgroup /);
    expect(await guestSh(node, 'systemctl is-active containerd kubelet-ts')).toBe('active\nactive\n');
    expect(await guestReadFile(node, '/etc/containerd/config.toml')).toContain(
      `SystemdCgroup = ${driver === 'systemd'}`,
    );
    expect(await guestReadFile(node, '/opt/kubelet-ts/etc/kubelet-config.yaml')).toMatch(
      new RegExp(`cgroupDriver: ${driver}\\n[\\s\\S]*cgroupsPerQOS: true`),
    );
  });

  it('runs a busybox pod scheduled to the guest node to Running', async () => {
    await createPod(rest, ns, pod('sleeper', ['sleep', '3600'], { limits: { memory: '64Mi', cpu: '500m' } }));
    const p = await waitRunning('sleeper');
    expect(p.spec?.nodeName).toBe(node);
    expect(p.status?.hostIP).toBe('10.0.2.15');
    expect(p.status?.podIP).toMatch(/^10\.244\.9\./);
    expect(p.status?.qosClass).toBe('Guaranteed');
    const id = runtimeId(p.status?.containerStatuses?.[0]?.containerID);
    const tasks = await guestSh(node, 'ctr -n k8s.io task ls');
    expect(tasks).toMatch(new RegExp(`^${id}\\s+\\d+\\s+RUNNING$`, 'm'));
  });

  it("puts the container's memory and cpu limits into its cgroup v2 files", async () => {
    const p = (await getPod(rest, ns, 'sleeper'))!;
    const id = runtimeId(p.status?.containerStatuses?.[0]?.containerID);
    const dir = await guestContainerCgroupDir(node, id);
    const files = await guestReadFiles(node, dir, [
      'memory.max',
      'cpu.max',
      'cpu.weight',
      'memory.current',
      'cgroup.procs',
    ]);
    expect(files['memory.max']).toBe(String(64 * 1024 * 1024));
    expect(files['cpu.max']).toBe('50000 100000');
    // requests default to limits: 500m -> 512 shares, which runc 1.1 turns into cpu.weight 20.
    expect(files['cpu.weight']).toBe(String(cpuWeightFromShares(milliCpuToShares(500))));
    expect(Number(files['memory.current'])).toBeGreaterThan(0);
    expect(files['cgroup.procs']).toMatch(/^\d+/);
  });

  it('OOM-kills a container over its memory limit and reports OOMKilled', async () => {
    // dd fills a 64 MiB buffer from /dev/zero against a 32 MiB limit: the kernel's OOM killer
    // kills it (the container's main process) and containerd reports OOMKilled, exit code 137.
    await createPod(
      rest,
      ns,
      pod(
        'oom',
        ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'],
        {
          limits: { memory: '32Mi' },
        },
        { restartPolicy: 'Never' },
      ),
    );
    const p = await waitPod(rest, ns, 'oom', 'oom Failed', (x) => x.status?.phase === 'Failed', 180_000);
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });
    await deletePodAndWait('oom');
  });
});

describe.runIf(QOS_CGROUPS)('QoS cgroups on the node VM (src/cgroups, systemd driver)', () => {
  // requests == limits: Guaranteed; requests < limits: Burstable; nothing: BestEffort.
  const specs = {
    guaranteed: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '250m', memory: '64Mi' } },
    burstable: { requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '128Mi' } },
  };
  const uids: Record<string, string> = {};
  const containerIds: Record<string, string> = {};

  it('places Guaranteed, Burstable and BestEffort pods in upstream pod cgroups with upstream values', async () => {
    await createPod(rest, ns, pod('qos-g', ['sleep', '3600'], specs.guaranteed));
    await createPod(rest, ns, pod('qos-b', ['sleep', '3600'], specs.burstable));
    await createPod(rest, ns, pod('qos-be', ['sleep', '3600']));
    const expected = {
      'qos-g': {
        qos: 'Guaranteed',
        'cpu.weight': String(cpuWeightFromShares(milliCpuToShares(250))),
        'cpu.max': '25000 100000',
        'memory.max': String(64 * 1024 * 1024),
      },
      'qos-b': {
        qos: 'Burstable',
        'cpu.weight': String(cpuWeightFromShares(milliCpuToShares(100))),
        'cpu.max': 'max 100000',
        'memory.max': String(128 * 1024 * 1024),
      },
      'qos-be': { qos: 'BestEffort', 'cpu.weight': '1', 'cpu.max': 'max 100000', 'memory.max': 'max' },
    } as const;
    for (const [name, want] of Object.entries(expected)) {
      const p = await waitRunning(name);
      expect(p.status?.qosClass).toBe(want.qos);
      const uid = p.metadata!.uid!;
      const id = runtimeId(p.status?.containerStatuses?.[0]?.containerID);
      uids[name] = uid;
      containerIds[name] = id;
      const dir = podCgroupDir(want.qos, uid);
      // The container sits in its pod's slice, as containerd's systemd driver names it.
      expect(await guestContainerCgroupDir(node, id)).toBe(containerScopeDir(dir, id));
      const files = await guestReadFiles(node, dir, ['cpu.weight', 'cpu.max', 'memory.max', 'pids.max']);
      expect({ name, ...files }).toEqual({
        name,
        'cpu.weight': want['cpu.weight'],
        'cpu.max': want['cpu.max'],
        'memory.max': want['memory.max'],
        'pids.max': String(PIDS_LIMIT),
      });
    }
  }, 300_000);

  it('sizes the kubepods, burstable and besteffort cgroups as upstream', async () => {
    const n = await rest.get<Node>(`/api/v1/nodes/${node}`);
    const capacityBytes = Number(/^(\d+)Ki$/.exec(n.status!.capacity!.memory!)![1]) * 1024;
    const capacityMilliCpu = Number(n.status!.capacity!.cpu) * 1000;
    // Upstream's pid capacity (stats/pidlimit): min(kernel.pid_max, kernel.threads-max).
    const taskMax = Math.min(
      Number(await guestReadFile(node, '/proc/sys/kernel/pid_max')),
      Number(await guestReadFile(node, '/proc/sys/kernel/threads-max')),
    );
    // enforceNodeAllocatable [pods] without reservations: kubepods gets the node's capacity.
    const kubepods = await guestReadFiles(node, '/sys/fs/cgroup/kubepods.slice', [
      'cpu.weight',
      'memory.max',
      'pids.max',
    ]);
    expect(kubepods).toEqual({
      'cpu.weight': String(cpuWeightFromShares(milliCpuToShares(capacityMilliCpu))),
      'memory.max': String(Math.floor(capacityBytes / 4096) * 4096),
      'pids.max': String(taskMax),
    });
    // BestEffort: minimum shares. Burstable: the sum of its pods' cpu requests (qos-b only).
    await eventually(
      'QoS cgroup cpu.weight',
      async () => {
        const be = await guestReadFile(
          node,
          '/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/cpu.weight',
        );
        const bu = await guestReadFile(
          node,
          '/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/cpu.weight',
        );
        return be.trim() === '1' && bu.trim() === String(cpuWeightFromShares(milliCpuToShares(100)))
          ? true
          : undefined;
      },
      60_000,
    );
  });

  it('keeps pods and their cgroups when the kubelet restarts (adoption)', async () => {
    const before = await guestReadFiles(node, podCgroupDir('Guaranteed', uids['qos-g']!), [
      'cpu.weight',
      'memory.max',
    ]);
    await guestSh(node, 'systemctl restart kubelet-ts');
    await eventually(
      'node Ready again after the kubelet restart',
      async () => {
        const n = await rest.get<Node>(`/api/v1/nodes/${node}`);
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' &&
          (await guestSh(node, 'systemctl is-active kubelet-ts')).trim() === 'active'
          ? true
          : undefined;
      },
      120_000,
    );
    await new Promise((r) => setTimeout(r, 15_000));
    for (const name of ['qos-g', 'qos-b', 'qos-be']) {
      const p = (await getPod(rest, ns, name))!;
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ restartCount: 0 });
      expect(runtimeId(p.status?.containerStatuses?.[0]?.containerID)).toBe(containerIds[name]);
    }
    expect(
      await guestReadFiles(node, podCgroupDir('Guaranteed', uids['qos-g']!), ['cpu.weight', 'memory.max']),
    ).toEqual(before);
  }, 300_000);

  it('removes a pod cgroup once its pod is deleted', async () => {
    await Promise.all(['qos-g', 'qos-b', 'qos-be'].map((n) => deletePodAndWait(n)));
    await eventually(
      'pod cgroups removed',
      async () => {
        const left = [];
        for (const [name, qos] of [
          ['qos-g', 'Guaranteed'],
          ['qos-b', 'Burstable'],
          ['qos-be', 'BestEffort'],
        ] as const) {
          if (await guestExists(node, podCgroupDir(qos, uids[name]!))) left.push(name);
        }
        return left.length === 0 ? true : undefined;
      },
      90_000,
    );
  }, 300_000);
});

describe.runIf(EVICTION)('node-pressure eviction on the node VM (src/eviction)', () => {
  it('drives MemoryPressure with a memory hog and evicts the BestEffort pod first, as upstream', async () => {
    // Only this test's pods on the node: anything left over would compete in the ranking.
    const leftovers = (await rest.get<ObjectList<Pod>>(podPath(ns))).items.map((p) => p.metadata!.name!);
    await Promise.all(leftovers.map((n) => deletePodAndWait(n)));
    // The BestEffort victim: it uses more than it requests (nothing), so it ranks first.
    await createPod(rest, ns, pod('victim', ['sleep', '3600']));
    await waitRunning('victim');

    // memory.available as upstream computes it on cgroup v2: capacity - (usage - inactive_file)
    // of the root cgroup = MemFree + Inactive(file). Take it below the threshold by ~100 MiB.
    const mi = await guestMeminfo(node);
    const available = mi.MemFree! + mi['Inactive(file)']!;
    const hogMi = Math.ceil((available - (EVICTION_MEMORY_AVAILABLE_MI - 100) * 1024 * 1024) / (1024 * 1024));
    expect(hogMi * 1024 * 1024, 'the guest has room for the hog without a kernel OOM').toBeLessThan(
      mi.MemAvailable! - 150 * 1024 * 1024,
    );
    // dd reads hogMi MiB into one buffer, then blocks for good writing it to a pipe nobody reads.
    // Guaranteed, and under its request (dd's buffer + a few MiB for sh and sleep): ranked
    // after the BestEffort pod. It must also fit the node's allocatable (capacity - evictionHard).
    const req = { cpu: '100m', memory: `${hogMi + 32}Mi` };
    const allocatable = (await rest.get<Node>(`/api/v1/nodes/${node}`)).status!.allocatable!.memory!;
    expect(hogMi + 32, `the hog's request fits allocatable memory ${allocatable}`).toBeLessThanOrEqual(
      Number(/^(\d+)Ki$/.exec(allocatable)![1]) / 1024,
    );
    await createPod(
      rest,
      ns,
      pod('hog', ['sh', '-c', `dd if=/dev/zero bs=${hogMi}M count=1 | sleep 3600`], {
        requests: req,
        limits: req,
      }),
    );
    await waitRunning('hog');
    // Precondition, independent of the kubelet: the guest really is below the threshold now.
    await withGuestDiagnostics(
      eventually(
        'the hog to take memory.available below the threshold',
        async () => {
          const m = await guestMeminfo(node);
          return m.MemFree! + m['Inactive(file)']! < EVICTION_MEMORY_AVAILABLE_MI * 1024 * 1024
            ? true
            : undefined;
        },
        240_000,
      ),
    );

    await withGuestDiagnostics(
      eventually(
        'MemoryPressure True',
        async () => {
          const n = await rest.get<Node>(`/api/v1/nodes/${node}`);
          const c = n.status?.conditions?.find((x) => x.type === 'MemoryPressure');
          return c?.status === 'True' ? c : undefined;
        },
        120_000,
      ),
    ).then((c) => {
      expect(c).toMatchObject({
        reason: 'KubeletHasInsufficientMemory',
        message: 'kubelet has insufficient memory available',
      });
    });
    // Under memory pressure (held at least evictionPressureTransitionPeriod) the kubelet refuses a
    // new BestEffort pod at admission. Bound directly (nodeName): the scheduler would not place it
    // at all, as the node now carries the node.kubernetes.io/memory-pressure:NoSchedule taint.
    await createPod(
      rest,
      ns,
      pod('late', ['sleep', '3600'], undefined, { nodeName: node, nodeSelector: undefined }),
    );

    const victim = await withGuestDiagnostics(
      waitPod(rest, ns, 'victim', 'victim Evicted', (p) => p.status?.reason === 'Evicted', 120_000),
    );
    expect(victim.status?.phase).toBe('Failed');
    expect(victim.status?.message).toMatch(
      new RegExp(
        `^The node was low on resource: memory\\. Threshold quantity: ${EVICTION_MEMORY_AVAILABLE_MI}Mi, available: \\S+\\. ` +
          'Container c was using \\S+, request is 0, has larger consumption of memory\\. $',
      ),
    );
    const disruption = victim.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    expect(disruption).toMatchObject({
      status: 'True',
      reason: 'TerminationByKubelet',
      message: victim.status?.message,
    });
    const events = await rest.get<ObjectList<Event>>(`/api/v1/namespaces/${ns}/events`, {
      query: { fieldSelector: `involvedObject.name=victim,reason=Evicted` },
    });
    expect(events.items[0]).toMatchObject({ type: 'Warning', message: victim.status?.message });

    // The hog, under its request, was ranked after the victim: still running, or evicted later.
    const hog = (await getPod(rest, ns, 'hog'))!;
    if (hog.status?.reason === 'Evicted') {
      const hogAt =
        hog.status.conditions?.find((c) => c.type === 'DisruptionTarget')?.lastTransitionTime ?? '';
      expect(hogAt >= (disruption?.lastTransitionTime ?? '')).toBe(true);
    }

    const late = await withGuestDiagnostics(
      waitPod(rest, ns, 'late', 'late rejected', (p) => p.status?.phase === 'Failed', 60_000),
    );
    expect(late.status).toMatchObject({
      reason: 'Evicted',
      // upstream rejectPod: "Pod was rejected: " + the eviction manager's admission message.
      message: 'Pod was rejected: The node had condition: [MemoryPressure]. ',
    });

    await Promise.all(['hog', 'victim', 'late'].map((n) => deletePodAndWait(n)));
    await eventually(
      'MemoryPressure False again',
      async () => {
        const n = await rest.get<Node>(`/api/v1/nodes/${node}`);
        return n.status?.conditions?.find((x) => x.type === 'MemoryPressure')?.status === 'False'
          ? true
          : undefined;
      },
      120_000,
    );
  }, 900_000);
});
