import { chmod, lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeSubPath, SubPathError } from '../../../src/volumes/subpath.js';

// Upstream makeMounts (pkg/kubelet/kubelet_pods.go) + SafeMakeDir (pkg/volume/util/subpath):
// a missing subPath is created with the volume root's mode (GetMode, setgid/sticky kept), each
// component fchmod'ed to it; e2e "EmptyDir volumes when FSGroup is specified nonexistent volume
// subPath should have the correct mode and owner using FSGroup" expects dgtrwxrwxrwx, gid 123.

let dir: string;
let vol: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kts-sp-'));
  vol = join(dir, 'vol');
  await mkdir(vol);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makeSubPath', () => {
  it('creates missing components with the root mode, setgid and sticky included', async () => {
    await chmod(vol, 0o3777);
    const old = process.umask(0o022);
    try {
      expect(await makeSubPath(vol, 'a/b', 'v', 'c')).toBe(join(vol, 'a/b'));
    } finally {
      process.umask(old);
    }
    expect((await stat(join(vol, 'a'))).mode & 0o7777).toBe(0o3777);
    expect((await stat(join(vol, 'a', 'b'))).mode & 0o7777).toBe(0o3777);
  });

  it('inherits the group of a setgid root', async () => {
    await chmod(vol, 0o2777);
    const { chown } = await import('node:fs/promises');
    await chown(vol, 0, 123);
    await makeSubPath(vol, 'test-sub', 'v', 'c');
    expect((await stat(join(vol, 'test-sub'))).gid).toBe(123);
  });

  it('leaves an existing path alone', async () => {
    await writeFile(join(vol, 'f'), 'x');
    await chmod(join(vol, 'f'), 0o600);
    expect(await makeSubPath(vol, 'f', 'v', 'c')).toBe(join(vol, 'f'));
    expect((await stat(join(vol, 'f'))).mode & 0o777).toBe(0o600);
  });

  it('never creates outside the volume through a symlink', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await symlink(outside, join(vol, 'link'));
    await expect(makeSubPath(vol, 'link/new', 'vol-x', 'ctr')).rejects.toThrow(
      new SubPathError('failed to create subPath directory for volumeMount "vol-x" of container "ctr"'),
    );
    await expect(lstat(join(outside, 'new'))).rejects.toThrow();
  });
});
