import { chmod, lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownershipMode, setVolumeOwnership } from '../../../src/volumes/ownership.js';

// Upstream pkg/volume/volume_linux.go (v1.37.2): changeFilePermission adds rwMask 0660 (roMask
// 0440 for read-only volumes) to files, and also execMask 0110 and ModeSetgid to directories,
// keeping the existing bits (sticky included); symlinks are lchown'ed but never chmod'ed.

describe('ownershipMode (changeFilePermission)', () => {
  it.each([
    [0o644, 'file', true, 0o644],
    [0o400, 'file', true, 0o440],
    [0o600, 'file', true, 0o640],
    [0o400, 'file', false, 0o660],
    [0o644, 'file', false, 0o664],
    [0o755, 'dir', true, 0o2755],
    [0o755, 'dir', false, 0o2775],
    [0o777, 'dir', false, 0o2777],
    [0o1777, 'dir', false, 0o3777],
    [0o700, 'dir', true, 0o2750],
    [0o4755, 'file', false, 0o4775],
  ] as const)('mode 0%s %s readOnly=%s → 0%s', (mode, kind, ro, want) => {
    expect(ownershipMode(mode, kind, ro)?.toString(8)).toBe(want.toString(8));
  });

  it('symlinks are not chmod-ed', () => {
    expect(ownershipMode(0o777, 'symlink', false)).toBeUndefined();
  });
});

describe('setVolumeOwnership', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kts-own-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const mode = async (p: string) => (await stat(p)).mode & 0o7777;

  it('gives the whole tree to the fsGroup; links keep their target mode', async () => {
    const vol = join(dir, 'vol');
    await mkdir(join(vol, 'ts', 'sub'), { recursive: true });
    await chmod(vol, 0o777);
    await chmod(join(vol, 'ts'), 0o755);
    await writeFile(join(vol, 'ts', 'f'), 'x', { mode: 0o400 });
    await chmod(join(vol, 'ts', 'f'), 0o400);
    await writeFile(join(vol, 'ts', 'sub', 'g'), 'y');
    await chmod(join(vol, 'ts', 'sub', 'g'), 0o644);
    await symlink('ts/f', join(vol, 'f'));
    await setVolumeOwnership(vol, 1234, true);
    for (const p of ['', 'ts', 'ts/f', 'ts/sub', 'ts/sub/g']) {
      expect((await stat(join(vol, p))).gid).toBe(1234);
    }
    expect((await lstat(join(vol, 'f'))).gid).toBe(1234);
    expect(await mode(vol)).toBe(0o2777);
    expect(await mode(join(vol, 'ts'))).toBe(0o2755);
    expect(await mode(join(vol, 'ts', 'f'))).toBe(0o440);
    expect(await mode(join(vol, 'ts', 'sub', 'g'))).toBe(0o644);
  });

  it('without an fsGroup nothing changes', async () => {
    const vol = join(dir, 'vol');
    await mkdir(vol);
    await chmod(vol, 0o750);
    await setVolumeOwnership(vol, undefined, false);
    expect(await mode(vol)).toBe(0o750);
    expect((await stat(vol)).gid).toBe(0);
  });
});
