import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  mountsUnder,
  setUpEmptyDir,
  tearDownEmptyDir,
  tmpfsMountOptions,
  tmpfsNoswapSupported,
} from '../../../src/volumes/emptyDir.js';

// Upstream pkg/volume/emptydir/empty_dir.go (v1.37.2): setupDir makes the directory 0777; a
// Memory medium mounts a tmpfs with only size= (and noswap) options, so its root is the kernel's
// 1777; an fsGroup then gets SetVolumeOwnership (read-write: g+rwx and setgid); the `ready`
// file makes SetUpAt idempotent. pkg/kubelet/util/swap: noswap from kernel 6.4, not in a userns.

describe('tmpfs options', () => {
  it.each([
    ['6.18.44-fc-v1147', '         0          0 4294967295\n', true],
    ['6.4.0', '0 0 4294967295', true],
    ['6.3.12-generic', '0 0 4294967295', false],
    ['5.15.0-105-generic', '0 0 4294967295', false],
    ['7.0', '', true],
    ['6.18.44', '0 100000 65536', false],
  ])('kernel %s, uid_map %j → noswap %s', (rel, map, want) => {
    expect(tmpfsNoswapSupported(rel, map)).toBe(want);
  });

  it('size only when positive; noswap when supported', () => {
    expect(tmpfsMountOptions(0, false)).toEqual([]);
    expect(tmpfsMountOptions(10 * 1024 * 1024, false)).toEqual(['size=10485760']);
    expect(tmpfsMountOptions(10 * 1024 * 1024, true)).toEqual(['size=10485760', 'noswap']);
  });
});

describe('setUpEmptyDir', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kts-ed-'));
  });
  afterEach(async () => {
    for (const mp of await mountsUnder(root)) execFileSync('umount', [mp]);
    await rm(root, { recursive: true, force: true });
  });
  const mode = async (p: string) => (await stat(p)).mode & 0o7777;
  const spec = (medium: string, fsGroup?: number) => ({
    dir: join(root, 'volumes', 'v'),
    metaDir: join(root, 'plugins', 'kubernetes.io~empty-dir', 'v'),
    medium,
    sizeBytes: 16 * 1024 * 1024,
    fsGroup,
  });

  it('node disk: a 0777 directory whatever the umask, then ready', async () => {
    const old = process.umask(0o077);
    try {
      await setUpEmptyDir(spec(''));
    } finally {
      process.umask(old);
    }
    const s = spec('');
    expect(await mode(s.dir)).toBe(0o777);
    expect((await stat(join(s.metaDir, 'ready'))).mode & 0o777).toBe(0o600);
    expect(await mountsUnder(s.dir)).toEqual([]);
  });

  it('node disk with fsGroup: group-owned, setgid; done once (ready)', async () => {
    const s = spec('', 123);
    await setUpEmptyDir(s);
    expect(await mode(s.dir)).toBe(0o2777);
    expect((await stat(s.dir)).gid).toBe(123);
    await chmod(s.dir, 0o755);
    await setUpEmptyDir(s);
    expect(await mode(s.dir)).toBe(0o755);
  });

  it('Memory: a tmpfs whose root is 1777; with fsGroup 3777 (dgtrwxrwxrwx)', async () => {
    const s = spec('Memory');
    await setUpEmptyDir(s);
    expect(await mountsUnder(s.dir)).toEqual([s.dir]);
    expect(await mode(s.dir)).toBe(0o1777);
    await setUpEmptyDir(s); // ready and mounted: not mounted twice
    expect(await mountsUnder(s.dir)).toEqual([s.dir]);

    await tearDownEmptyDir(s.dir, s.metaDir);
    await expect(lstat(s.dir)).rejects.toThrow();
    await expect(lstat(s.metaDir)).rejects.toThrow();

    const g = spec('Memory', 123);
    await setUpEmptyDir(g);
    expect(await mode(g.dir)).toBe(0o3777);
    expect((await stat(g.dir)).gid).toBe(123);
    await writeFile(join(g.dir, 'f'), 'x');
    expect((await stat(join(g.dir, 'f'))).gid).toBe(123);
  });

  it('Memory ready but no longer mounted (node reboot): mounted again', async () => {
    const s = spec('Memory');
    await setUpEmptyDir(s);
    execFileSync('umount', [s.dir]);
    await setUpEmptyDir(s);
    expect(await mountsUnder(s.dir)).toEqual([s.dir]);
  });

  it('unknown media are refused like upstream', async () => {
    await expect(setUpEmptyDir(spec('Floppy'))).rejects.toThrow('unknown storage medium "Floppy"');
  });
});
