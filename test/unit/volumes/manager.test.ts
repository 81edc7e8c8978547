import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap, Pod } from '../../../src/api/types.js';
import { VolumeManager, VolumeSetupError } from '../../../src/volumes/manager.js';
import type { VolumeLookup } from '../../../src/volumes/projections.js';

// The volume manager: directories under <root>/pods/<uid>/volumes/<plugin>/<name>, FailedMount
// messages (VolumeSetupError) for bad input, hostPath type checks as upstream host_path.go,
// emptyDir medium Memory as a sized tmpfs, and teardown.

type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];

let dir: string;
let root: string;
let cms: ConfigMap[];
const lookup: VolumeLookup = {
  configMap: async (_ns, name) => cms.find((c) => c.metadata?.name === name),
  secret: async () => undefined,
  token: async () => 'tok',
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kts-vm-'));
  root = join(dir, 'root');
  cms = [{ metadata: { name: 'cm1', namespace: 'ns1' }, data: { a: 'A' } }];
});
afterEach(async () => {
  for (const mp of mountsUnder(dir)) execFileSync('umount', [mp]);
  await rm(dir, { recursive: true, force: true });
});

function mountsUnder(path: string): string[] {
  return execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp === path || mp.startsWith(`${path}/`));
}

function pod(volumes: Volume[], uid = 'uid-1', spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns1', uid },
    spec: { containers: [{ name: 'c' }], volumes, ...spec },
  };
}

async function setUpError(vm: VolumeManager, p: Pod): Promise<VolumeSetupError> {
  const err = await vm.setUpPod(p).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VolumeSetupError);
  return err as VolumeSetupError;
}

describe('VolumeManager.setUpPod', () => {
  it('lays volumes out like upstream and reports their host paths', async () => {
    const vm = new VolumeManager(root, lookup);
    const host = join(dir, 'host-dir');
    await mkdir(host);
    const got = await vm.setUpPod(
      pod([
        { name: 'cfg', configMap: { name: 'cm1' } },
        { name: 'sec', secret: { secretName: 'x', optional: true } },
        { name: 'info', downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } },
        { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        { name: 'scratch', emptyDir: {} },
        { name: 'h', hostPath: { path: host, type: 'Directory' } },
      ]),
    );
    const vols = join(root, 'pods', 'uid-1', 'volumes');
    expect(Object.fromEntries(got)).toEqual({
      cfg: { hostPath: join(vols, 'kubernetes.io~configmap', 'cfg'), forceReadOnly: true },
      sec: { hostPath: join(vols, 'kubernetes.io~secret', 'sec'), forceReadOnly: true },
      info: { hostPath: join(vols, 'kubernetes.io~downward-api', 'info'), forceReadOnly: true },
      proj: { hostPath: join(vols, 'kubernetes.io~projected', 'proj'), forceReadOnly: true },
      scratch: { hostPath: join(vols, 'kubernetes.io~empty-dir', 'scratch'), forceReadOnly: false },
      h: { hostPath: host, forceReadOnly: false },
    });
    expect(await readFile(join(vols, 'kubernetes.io~configmap', 'cfg', 'a'), 'utf8')).toBe('A');
    expect(await readFile(join(vols, 'kubernetes.io~projected', 'proj', 'token'), 'utf8')).toBe('tok');
    expect((await stat(join(vols, 'kubernetes.io~empty-dir', 'scratch'))).mode & 0o777).toBe(0o777);
    for (const d of [join(root, 'pods', 'uid-1'), vols, join(root, 'pods', 'uid-1', 'plugins')]) {
      expect((await stat(d)).mode & 0o777).toBe(0o750);
    }
  });

  it('updates a configMap volume in place on the next set-up', async () => {
    const vm = new VolumeManager(root, lookup);
    const p = pod([{ name: 'cfg', configMap: { name: 'cm1' } }]);
    const file = join(root, 'pods', 'uid-1', 'volumes', 'kubernetes.io~configmap', 'cfg', 'a');
    await vm.setUpPod(p);
    cms[0]!.data = { a: 'A2', b: 'B' };
    await vm.setUpPod(p);
    expect(await readFile(file, 'utf8')).toBe('A2');
  });

  it('bad input → one FailedMount message per volume, the good volumes still set up, nothing outside', async () => {
    const vm = new VolumeManager(root, lookup);
    const outside = join(dir, 'outside');
    await writeFile(outside, 'original');
    const err = await setUpError(
      vm,
      pod([
        { name: 'ok', configMap: { name: 'cm1' } },
        { name: 'missing', configMap: { name: 'ghost' } },
        { name: 'missing-secret', secret: { secretName: 'ghost' } },
        { name: 'dotdot', configMap: { name: 'cm1', items: [{ key: 'a', path: '../../../../outside' }] } },
        { name: 'abs', configMap: { name: 'cm1', items: [{ key: 'a', path: outside }] } },
        { name: 'lead', configMap: { name: 'cm1', items: [{ key: 'a', path: '..a' }] } },
        { name: 'nokey', configMap: { name: 'cm1', items: [{ key: 'zz', path: 'zz' }] } },
        { name: 'nfs', nfs: { server: 'x', path: '/' } } as Volume,
      ]),
    );
    const byVolume = Object.fromEntries(err.failures.map((f) => [f.volume, f.message]));
    expect(byVolume).toEqual({
      missing: 'configmap "ghost" not found',
      'missing-secret': 'secret "ghost" not found',
      dotdot: "invalid path: must not contain '..': ../../../../outside",
      abs: `invalid path: must be relative path: ${outside}`,
      lead: "invalid path: must not start with '..': ..a",
      nokey: 'configmap references non-existent config key: zz',
      nfs: 'volume type nfs is not supported by kubelet-ts yet',
    });
    expect(err.message).toContain(
      'MountVolume.SetUp failed for volume "missing" : configmap "ghost" not found',
    );
    expect(await readFile(outside, 'utf8')).toBe('original');
    expect((await readdir(dir)).sort()).toEqual(['outside', 'root']);
    const cmDir = join(root, 'pods', 'uid-1', 'volumes', 'kubernetes.io~configmap');
    expect(await readFile(join(cmDir, 'ok', 'a'), 'utf8')).toBe('A');
    for (const bad of ['dotdot', 'abs', 'lead']) {
      await expect(lstat(join(cmDir, bad, '..data'))).rejects.toThrow();
    }
  });
});

describe('hostPath type checks (upstream messages)', () => {
  let vm: VolumeManager;
  beforeEach(() => {
    vm = new VolumeManager(root, lookup);
  });
  const check = async (path: string, type: string) => {
    const err = await setUpError(vm, pod([{ name: 'h', hostPath: { path, type } }]));
    return err.failures[0]?.message;
  };

  it('wrong types name what they found', async () => {
    const file = join(dir, 'f');
    await writeFile(file, '');
    expect(await check(file, 'Directory')).toBe(
      `hostPath type check failed: ${file} is not a directory, it's a File`,
    );
    expect(await check(dir, 'File')).toBe(
      `hostPath type check failed: ${dir} is not a file, it's a Directory`,
    );
    expect(await check(dir, 'FileOrCreate')).toBe(
      `hostPath type check failed: ${dir} is not a file, it's a Directory`,
    );
    expect(await check(file, 'DirectoryOrCreate')).toBe(
      `hostPath type check failed: ${file} is not a directory, it's a File`,
    );
    expect(await check(file, 'Socket')).toBe(
      `hostPath type check failed: ${file} is not a socket file, it's a File`,
    );
    expect(await check('/dev/null', 'BlockDevice')).toBe(
      "hostPath type check failed: /dev/null is not a block device, it's a CharDevice",
    );
    expect(await check(file, 'CharDevice')).toBe(
      `hostPath type check failed: ${file} is not a character device, it's a File`,
    );
  });

  it('a missing path cannot be typed', async () => {
    const ghost = join(dir, 'ghost');
    expect(await check(ghost, 'Directory')).toBe(
      `hostPath type check failed, ${ghost} is not a directory, unable to determine its type: path "${ghost}" does not exist`,
    );
  });

  it('an invalid type and a path with .. are refused', async () => {
    expect(await check(dir, 'Bogus')).toBe('Bogus is an invalid volume type');
    expect(await check(`${dir}/../etc`, '')).toBe(
      `invalid HostPath \`${dir}/../etc\`: must not contain '..'`,
    );
  });

  it('right types pass; *OrCreate create what is missing; "" checks nothing', async () => {
    const sock = join(dir, 's.sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const made = join(dir, 'made', 'deep');
      const file = join(dir, 'newfile');
      const got = await vm.setUpPod(
        pod([
          { name: 'a', hostPath: { path: sock, type: 'Socket' } },
          { name: 'b', hostPath: { path: '/dev/null', type: 'CharDevice' } },
          { name: 'c', hostPath: { path: made, type: 'DirectoryOrCreate' } },
          { name: 'd', hostPath: { path: file, type: 'FileOrCreate' } },
          { name: 'e', hostPath: { path: join(dir, 'nothing-here') } },
          { name: 'f', hostPath: { path: dir, type: 'Directory' } },
        ]),
      );
      expect(got.size).toBe(6);
      expect((await stat(made)).isDirectory()).toBe(true);
      expect((await stat(made)).mode & 0o777).toBe(0o755);
      expect((await stat(file)).isFile()).toBe(true);
      await expect(lstat(join(dir, 'nothing-here'))).rejects.toThrow();
    } finally {
      server.close();
    }
  });
});

describe('emptyDir medium Memory and teardown', () => {
  it('mounts a tmpfs sized to min(sizeLimit, pod memory limit, allocatable); teardown unmounts and removes all', async () => {
    const vm = new VolumeManager(root, lookup, {
      allocatable: { cpuMillis: 2000, memoryBytes: 512 * 1024 ** 2, ephemeralBytes: 0 },
    });
    const p = pod(
      [
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'mem2', emptyDir: { medium: 'Memory' } },
        { name: 'disk', emptyDir: {} },
        { name: 'cfg', configMap: { name: 'cm1' } },
      ],
      'uid-mem',
      { containers: [{ name: 'c', resources: { limits: { memory: '100Mi' } } }] },
    );
    const got = await vm.setUpPod(p);
    await vm.setUpPod(p); // idempotent: not mounted twice
    const mem = got.get('mem')!.hostPath;
    const mem2 = got.get('mem2')!.hostPath;
    const mounts = execFileSync('cat', ['/proc/self/mounts'], { encoding: 'utf8' }).split('\n');
    const line = (mp: string) => mounts.filter((l) => l.split(' ')[1] === mp);
    expect(line(mem)).toHaveLength(1);
    expect(line(mem)[0]).toMatch(/^tmpfs \S+ tmpfs rw,.*size=65536k/);
    expect(line(mem2)[0]).toMatch(/size=102400k/);
    expect(line(got.get('disk')!.hostPath)).toEqual([]);
    await writeFile(join(mem, 'data'), 'x');

    const podDir = vm.podDir('uid-mem');
    expect(mountsUnder(podDir)).toHaveLength(2);
    await vm.tearDownPod('uid-mem');
    expect(mountsUnder(podDir)).toEqual([]);
    await expect(lstat(podDir)).rejects.toThrow();
    expect(await readdir(join(root, 'pods'))).toEqual([]);
  });

  it('teardown ignores unsafe uids and missing pods', async () => {
    const vm = new VolumeManager(root, lookup);
    await mkdir(join(root, 'keep'), { recursive: true });
    await vm.tearDownPod('../keep');
    await vm.tearDownPod('');
    await vm.tearDownPod('never-existed');
    expect((await stat(join(root, 'keep'))).isDirectory()).toBe(true);
  });
});

// Upstream configmap/secret/downwardapi/projected SetUpAt (v1.37.2): the wrapped emptyDir (disk
// for configMap, tmpfs for the others: wrappedVolumeSpec), then AtomicWriter.Write with a
// setPerms that runs SetVolumeOwnership read-only (files |0440, dirs |0550 + setgid, group =
// fsGroup). The e2e specs this mirrors: "ConfigMap should be consumable from pods in volume as
// non-root with defaultMode and fsGroup set" (-r--r-----), "Secrets ... with defaultMode and
// fsGroup set", "Downward API volume should provide container's cpu limit" etc.
describe('API-backed volumes: wrapped emptyDir, fsGroup and modes', () => {
  const vols = (uid: string) => join(root, 'pods', uid, 'volumes');
  const mode = async (p: string) => (await stat(p)).mode & 0o7777;
  const mountType = (mp: string) =>
    execFileSync('cat', ['/proc/self/mounts'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f[1] === mp)?.[2];

  it('configMap on disk (0777 root), secret/downwardAPI/projected on tmpfs (1777 root)', async () => {
    const vm = new VolumeManager(root, lookup);
    const got = await vm.setUpPod(
      pod([
        { name: 'cfg', configMap: { name: 'cm1' } },
        { name: 'sec', secret: { secretName: 'x', optional: true } },
        { name: 'info', downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } },
        { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
      ]),
    );
    expect(mountType(got.get('cfg')!.hostPath)).toBeUndefined();
    expect(await mode(got.get('cfg')!.hostPath)).toBe(0o777);
    for (const v of ['sec', 'info', 'proj']) {
      expect(mountType(got.get(v)!.hostPath)).toBe('tmpfs');
      expect(await mode(got.get(v)!.hostPath)).toBe(0o1777);
    }
    const file = join(vols('uid-1'), 'kubernetes.io~configmap', 'cfg', 'a');
    expect(await mode(file)).toBe(0o644);
    expect(await readFile(join(vols('uid-1'), 'kubernetes.io~downward-api', 'info', 'n'), 'utf8')).toBe('p');
    const ready = join(root, 'pods', 'uid-1', 'plugins', 'kubernetes.io~empty-dir', 'wrapped_cfg', 'ready');
    expect((await stat(ready)).isFile()).toBe(true);
  });

  it('fsGroup: the volume belongs to the group, setgid dirs, files at least 0440; no rewrite next sync', async () => {
    const vm = new VolumeManager(root, lookup);
    const p = pod(
      [
        { name: 'cfg', configMap: { name: 'cm1', defaultMode: 0o400 } },
        { name: 'info', downwardAPI: { items: [{ path: 'd/n', fieldRef: { fieldPath: 'metadata.name' } }] } },
      ],
      'uid-fs',
      { securityContext: { fsGroup: 1234, runAsUser: 1000 } },
    );
    const got = await vm.setUpPod(p);
    const cfg = got.get('cfg')!.hostPath;
    const ts = await readlink(join(cfg, '..data'));
    expect(await mode(cfg)).toBe(0o2777);
    expect((await stat(cfg)).gid).toBe(1234);
    expect(await mode(join(cfg, ts))).toBe(0o2755);
    expect(await mode(join(cfg, 'a'))).toBe(0o440);
    expect((await stat(join(cfg, 'a'))).gid).toBe(1234);
    expect((await lstat(join(cfg, 'a'))).gid).toBe(1234);
    expect((await lstat(join(cfg, '..data'))).gid).toBe(1234);

    const info = got.get('info')!.hostPath;
    expect(await mode(info)).toBe(0o3777);
    expect(await mode(join(info, 'd'))).toBe(0o2755);
    expect(await mode(join(info, 'd', 'n'))).toBe(0o644);
    expect((await stat(join(info, 'd', 'n'))).gid).toBe(1234);

    await vm.setUpPod(p);
    expect(await readlink(join(cfg, '..data'))).toBe(ts);
  });

  it('the projected token is 0600 with an fsGroup (0640 after the ownership change), owned by the fsUser', async () => {
    const vm = new VolumeManager(root, lookup);
    const proj = { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } };
    const withGroup = await vm.setUpPod(pod([proj], 'uid-g', { securityContext: { fsGroup: 2000 } }));
    const g = join(withGroup.get('proj')!.hostPath, 'token');
    expect(await mode(g)).toBe(0o640);
    expect((await stat(g)).uid).toBe(0);
    expect((await stat(g)).gid).toBe(2000);

    const withUser = await vm.setUpPod(pod([proj], 'uid-u', { securityContext: { runAsUser: 1001 } }));
    const u = join(withUser.get('proj')!.hostPath, 'token');
    expect(await mode(u)).toBe(0o600);
    expect((await stat(u)).uid).toBe(1001);
  });

  it('downwardAPI resourceFieldRef: divisor, ceiling, node allocatable as the default limit', async () => {
    const vm = new VolumeManager(root, lookup, {
      allocatable: { cpuMillis: 3500, memoryBytes: 8 * 1024 ** 3, ephemeralBytes: 0 },
    });
    const ref = (path: string, containerName: string, resource: string, divisor?: string) => ({
      path,
      resourceFieldRef: { containerName, resource, ...(divisor ? { divisor } : {}) },
    });
    const got = await vm.setUpPod(
      pod(
        [
          {
            name: 'podinfo',
            downwardAPI: {
              items: [
                ref('cpu_limit', 'client-container', 'limits.cpu'),
                ref('cpu_request', 'client-container', 'requests.cpu'),
                ref('memory_limit', 'client-container', 'limits.memory'),
                ref('memory_request', 'client-container', 'requests.memory'),
                ref('cpu_limit_m', 'client-container', 'limits.cpu', '1m'),
                ref('memory_limit_mi', 'client-container', 'limits.memory', '1Mi'),
                ref('default_cpu_limit', 'bare', 'limits.cpu'),
                ref('default_memory_limit', 'bare', 'limits.memory'),
              ],
            },
          },
        ],
        'uid-res',
        {
          containers: [
            {
              name: 'client-container',
              resources: {
                requests: { cpu: '250m', memory: '32Mi' },
                limits: { cpu: '1250m', memory: '64Mi' },
              },
            },
            { name: 'bare' },
          ],
        },
      ),
    );
    const dir = got.get('podinfo')!.hostPath;
    const read = (f: string) => readFile(join(dir, f), 'utf8');
    expect(await read('cpu_limit')).toBe('2');
    expect(await read('cpu_request')).toBe('1');
    expect(await read('memory_limit')).toBe('67108864');
    expect(await read('memory_request')).toBe('33554432');
    expect(await read('cpu_limit_m')).toBe('1250');
    expect(await read('memory_limit_mi')).toBe('64');
    expect(await read('default_cpu_limit')).toBe('4');
    expect(await read('default_memory_limit')).toBe(String(8 * 1024 ** 3));
  });

  it('a downward API file follows label changes on the next set-up', async () => {
    const vm = new VolumeManager(root, lookup);
    const p = pod([
      {
        name: 'info',
        downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
      },
    ]);
    p.metadata!.labels = { key1: 'value1' };
    const got = await vm.setUpPod(p);
    const file = join(got.get('info')!.hostPath, 'labels');
    expect(await readFile(file, 'utf8')).toBe('key1="value1"');
    p.metadata!.labels = { key1: 'value1', key3: 'value3' };
    await vm.setUpPod(p);
    expect(await readFile(file, 'utf8')).toBe('key1="value1"\nkey3="value3"');
  });
});
