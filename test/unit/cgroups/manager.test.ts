import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { podQOSClass } from '../../../src/api/qos.js';
import type { Pod } from '../../../src/api/types.js';
import {
  CGROUP2_SUPER_MAGIC,
  CgroupFs,
  CgroupManager,
  type CgroupManagerOptions,
  cgroupModeFromMounts,
  detectCgroups,
  parseMountInfo,
  type SystemdUnits,
} from '../../../src/cgroups/index.js';
import { ALL_CONTROLLERS, FakeCgroupfs } from './fakeCgroupfs.js';

let fake: FakeCgroupfs;
let killed: number[];
beforeEach(async () => {
  fake = await FakeCgroupfs.create();
  killed = [];
});
afterEach(async () => {
  await fake.remove();
});

const GiB = 1024 ** 3;
const reserved = (memoryBytes: number) => ({ cpuMillis: 100, memoryBytes, pids: 0 });

function podOf(
  name: string,
  uid: string,
  resources: { requests?: Record<string, string>; limits?: Record<string, string> } = {},
): Pod {
  return {
    metadata: { name, namespace: 'default', uid },
    spec: { containers: [{ name: 'c', image: 'x', resources }] },
  };
}
const guaranteed = (uid: string) =>
  podOf('g', uid, { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '250m', memory: '64Mi' } });
const burstable = (uid: string) => podOf('b', uid, { requests: { cpu: '100m', memory: '32Mi' } });
const besteffort = (uid: string) => podOf('be', uid);

function manager(over: Partial<CgroupManagerOptions> = {}): CgroupManager {
  return new CgroupManager({
    fs: new CgroupFs({ root: fake.root, killProcess: (pid) => killed.push(pid) }),
    driver: 'cgroupfs',
    cgroupsPerQOS: true,
    cgroupRoot: '/',
    cpuCFSQuota: true,
    podPidsLimit: -1,
    capacity: { cpuMillis: 2000, memoryBytes: 8 * GiB, pids: 32768 },
    kubeReserved: reserved(GiB / 2),
    systemReserved: reserved(GiB / 2),
    enforceNodeAllocatable: ['pods'],
    qosOf: (p) => podQOSClass(p) as 'Guaranteed' | 'Burstable' | 'BestEffort',
    ...over,
  });
}

describe('cgroup manager against a fake cgroupfs (cgroupfs driver)', () => {
  it('builds kubepods (node allocatable) and the QoS cgroups at startup, enabling controllers on the way', async () => {
    const events: string[] = [];
    const m = manager({ onNodeEvent: (type, reason, msg) => events.push(`${type} ${reason} ${msg}`) });
    await m.start();
    const all = ALL_CONTROLLERS.map((c) => `+${c}`).join(' ');
    expect(await fake.read('/', 'cgroup.subtree_control')).toBe(all);
    expect(await fake.read('/kubepods', 'cgroup.subtree_control')).toBe(all);
    expect(await fake.read('/kubepods', 'memory.max')).toBe(String(7 * GiB));
    expect(await fake.read('/kubepods', 'cpu.weight')).toBe('71');
    expect(await fake.read('/kubepods', 'pids.max')).toBe('32768');
    expect(await fake.read('/kubepods/burstable', 'cpu.weight')).toBe('1');
    expect(await fake.read('/kubepods/besteffort', 'cpu.weight')).toBe('1');
    // Leaves are not given subtree_control (runc's CreateCgroupPath).
    expect(await fake.read('/kubepods/besteffort', 'cgroup.subtree_control')).toBeUndefined();
    expect(events).toEqual(['Normal NodeAllocatableEnforced Updated Node Allocatable limit across pods']);
  });

  it('uses capacity for kubepods when enforceNodeAllocatable does not contain pods', async () => {
    await manager({ enforceNodeAllocatable: [] }).start();
    expect(await fake.read('/kubepods', 'memory.max')).toBe(String(8 * GiB));
  });

  it('creates each pod cgroup under its QoS class with upstream values; cgroupParent is the path', async () => {
    const m = manager({ podPidsLimit: 512 });
    await m.start();
    const pods = [guaranteed('g-1'), burstable('b-1'), besteffort('e-1')];
    for (const p of pods) await m.ensurePod(p);
    expect(pods.map((p) => m.podCgroupParent(p))).toEqual([
      '/kubepods/podg-1',
      '/kubepods/burstable/podb-1',
      '/kubepods/besteffort/pode-1',
    ]);
    expect(await fake.read('/kubepods/podg-1', 'memory.max')).toBe(String(64 * 1024 ** 2));
    expect(await fake.read('/kubepods/podg-1', 'cpu.max')).toBe('25000 100000');
    expect(await fake.read('/kubepods/podg-1', 'cpu.weight')).toBe('10');
    expect(await fake.read('/kubepods/podg-1', 'pids.max')).toBe('512');
    expect(await fake.read('/kubepods/burstable/podb-1', 'cpu.weight')).toBe('4');
    expect(await fake.read('/kubepods/burstable/podb-1', 'memory.max')).toBeUndefined();
    expect(await fake.read('/kubepods/burstable/podb-1', 'cpu.max')).toBeUndefined();
    expect(await fake.read('/kubepods/besteffort/pode-1', 'cpu.weight')).toBe('1');
    expect(await fake.read('/kubepods/besteffort/pode-1', 'pids.max')).toBe('512');
  });

  it('updates the burstable cgroup from the active Burstable pods', async () => {
    const pods = [burstable('b-1'), burstable('b-2')];
    const m = manager({ activePods: () => pods });
    await m.start();
    expect(await fake.read('/kubepods/burstable', 'cpu.weight')).toBe('8');
  });

  it('adopts existing cgroups on restart: values are corrected, pods are kept', async () => {
    await fake.write('/kubepods/burstable/podb-1', 'cpu.weight', '100');
    await fake.write('/kubepods/burstable/podb-1', 'cgroup.procs', '4242\n');
    await fake.write('/kubepods', 'memory.max', 'max');
    const m = manager();
    await m.start();
    expect(await fake.read('/kubepods', 'memory.max')).toBe(String(7 * GiB));
    expect(await fake.exists('/kubepods/burstable/podb-1')).toBe(true);
    expect((await m.podCgroups()).map((p) => p.uid)).toEqual(['b-1']);
    await m.ensurePod(burstable('b-1'));
    expect(await fake.read('/kubepods/burstable/podb-1', 'cpu.weight')).toBe('4');
    expect(killed).toEqual([]);
  });

  it('removes orphaned pod cgroups (killing what is left) and keeps possibly running ones', async () => {
    const m = manager();
    await m.start();
    await m.ensurePod(burstable('keep'));
    await m.ensurePod(besteffort('gone'));
    await m.ensurePod(guaranteed('gone-too'));
    await fake.write('/kubepods/besteffort/podgone/cri-containerd-abc.scope', 'cgroup.procs', '999999\n');
    const removed = await m.cleanupOrphans(new Set(['keep']));
    expect(removed.sort()).toEqual(['gone', 'gone-too']);
    expect(killed).toEqual([999999]);
    expect(await fake.exists('/kubepods/besteffort/podgone')).toBe(false);
    expect(await fake.exists('/kubepods/podgone-too')).toBe(false);
    expect(await fake.exists('/kubepods/burstable/podkeep')).toBe(true);
    expect(await fake.exists('/kubepods/burstable')).toBe(true);
  });

  it('writes cgroup.kill instead of signalling when the kernel has it', async () => {
    const m = manager();
    await m.start();
    await m.ensurePod(besteffort('x'));
    await fake.write('/kubepods/besteffort/podx', 'cgroup.procs', '77\n');
    await fake.write('/kubepods/besteffort/podx', 'cgroup.kill', '');
    const fs = new CgroupFs({ root: fake.root, killProcess: (pid) => killed.push(pid) });
    // A real cgroupfs removes the dir; here we only check what was written before removal.
    const writes: string[] = [];
    const spy = Object.assign(Object.create(Object.getPrototypeOf(fs)), fs, {
      write: async (cg: string, file: string, v: string) => {
        writes.push(`${cg} ${file} ${v}`);
        await fs.write(cg, file, v);
      },
    }) as CgroupFs;
    await spy.remove('/kubepods/besteffort/podx');
    expect(writes).toEqual(['/kubepods/besteffort/podx cgroup.kill 1']);
    expect(killed).toEqual([]);
  });

  it('removes a terminated pod cgroup', async () => {
    const m = manager();
    await m.start();
    const p = burstable('done');
    await m.ensurePod(p);
    await m.removePod(p);
    expect(await fake.exists('/kubepods/burstable/poddone')).toBe(false);
  });

  it('does nothing and gives cgroup_parent "" when cgroupsPerQOS is false', async () => {
    const m = manager({ cgroupsPerQOS: false });
    await m.start();
    await m.ensurePod(burstable('b'));
    expect(m.podCgroupParent(burstable('b'))).toBe('');
    expect(await fake.exists('/kubepods')).toBe(false);
    expect(await fake.read('/', 'cgroup.subtree_control')).toBe('');
  });

  it('fails startup when the cgroup root does not exist', async () => {
    await expect(manager({ cgroupRoot: '/nope' }).start()).rejects.toThrow(
      /cgroup-root "\/nope" doesn't exist/,
    );
  });
});

describe('cgroup manager with the systemd driver', () => {
  function recordingUnits(fail = false): SystemdUnits & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      setProperties: async (unit, props) => {
        calls.push(`set-property ${unit} ${props.join(' ')}`);
        if (fail) throw new Error('Failed to connect to bus');
      },
      start: async (unit) => {
        calls.push(`start ${unit}`);
      },
      stop: async (unit) => {
        calls.push(`stop ${unit}`);
      },
    };
  }

  it('names slices as upstream, tells systemd their properties, and writes the files', async () => {
    const units = recordingUnits();
    const m = manager({ driver: 'systemd', systemd: units });
    await m.start();
    const p = guaranteed('11-22');
    await m.ensurePod(p);
    expect(m.podCgroupParent(p)).toBe('/kubepods.slice/kubepods-pod11_22.slice');
    expect(m.podCgroupParent(burstable('33-44'))).toBe(
      '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod33_44.slice',
    );
    expect(units.calls).toEqual([
      `set-property kubepods.slice MemoryMax=${7 * GiB} CPUWeight=71 TasksMax=32768`,
      'start kubepods.slice',
      'set-property kubepods-burstable.slice CPUWeight=1',
      'start kubepods-burstable.slice',
      'set-property kubepods-besteffort.slice CPUWeight=1',
      'start kubepods-besteffort.slice',
      'set-property kubepods-pod11_22.slice MemoryMax=67108864 CPUWeight=10 CPUQuota=25% CPUQuotaPeriodSec=100ms',
      'start kubepods-pod11_22.slice',
    ]);
    expect(await fake.read('/kubepods.slice/kubepods-pod11_22.slice', 'cpu.max')).toBe('25000 100000');
    expect(await fake.read('/kubepods.slice', 'memory.max')).toBe(String(7 * GiB));
    // A second sync with the same values does not run systemctl again.
    await m.ensurePod(p);
    expect(units.calls).toHaveLength(8);
    await m.cleanupOrphans(new Set());
    expect(units.calls.at(-1)).toBe('stop kubepods-pod11_22.slice');
    expect(await fake.exists('/kubepods.slice/kubepods-pod11_22.slice')).toBe(false);
  });

  it('falls back to writing cgroupfs when systemctl fails', async () => {
    const m = manager({ driver: 'systemd', systemd: recordingUnits(true) });
    await m.start();
    await m.ensurePod(besteffort('9'));
    expect(
      await fake.read(
        '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod9.slice',
        'cpu.weight',
      ),
    ).toBe('1');
  });
});

describe('cgroup detection', () => {
  const HYBRID = [
    '25 30 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
    '26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
    '28 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,memory',
  ].join('\n');
  const UNIFIED =
    '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
  const LEGACY = '28 25 0:25 / /sys/fs/cgroup/memory rw shared:12 - cgroup cgroup rw,memory';

  it.each([
    [UNIFIED, 'unified', '/sys/fs/cgroup'],
    [HYBRID, 'hybrid', '/sys/fs/cgroup/unified'],
    [LEGACY, 'legacy', ''],
    ['', 'none', ''],
  ])('mountinfo → %#', (text, mode, mount) => {
    expect(cgroupModeFromMounts(parseMountInfo(text))).toEqual({ mode, unifiedMount: mount });
  });

  it('is unified when statfs says cgroup2, and reads the root controllers', async () => {
    const host = await detectCgroups({
      root: fake.root,
      statfs: async () => ({ type: CGROUP2_SUPER_MAGIC }),
    });
    expect(host).toEqual({ mode: 'unified', unifiedMount: fake.root, controllers: ALL_CONTROLLERS });
  });

  it('reports a hybrid host (like this machine) from the mount table', async () => {
    const host = await detectCgroups({
      statfs: async () => ({ type: 0x01021994 }),
      mountInfo: async () => HYBRID,
    });
    expect(host.mode).toBe('hybrid');
    expect(host.controllers).toEqual([]);
  });
});
