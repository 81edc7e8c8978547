import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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
    const vm = new VolumeManager(root, lookup, 512 * 1024 ** 2);
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
