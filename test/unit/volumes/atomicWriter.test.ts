import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FileProjection,
  PathError,
  validatePath,
  writeAtomic,
} from '../../../src/volumes/atomicWriter.js';

// The atomic writer against upstream pkg/volume/util/atomic_writer.go: the `..data` swap, the
// timestamped directory, top-level symlinks, stale path removal, exact modes, no rewrite of
// unchanged content, and path validation that keeps every write inside the volume directory.

let root: string;
let vol: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kts-aw-'));
  vol = join(root, 'volume');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const files = (entries: Record<string, string | [string, number]>): Map<string, FileProjection> =>
  new Map(
    Object.entries(entries).map(([p, v]) => {
      const [data, mode] = typeof v === 'string' ? [v, 0o644] : v;
      return [p, { data: Buffer.from(data), mode }];
    }),
  );

const TS_DIR = /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.[0-9a-f]+$/;

describe('writeAtomic layout', () => {
  it('writes a timestamped dir, ..data → it, and one top-level symlink per user path', async () => {
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(await writeAtomic(vol, files({ a: 'A', 'dir/b': 'B', 'dir/sub/c': 'C' }), now)).toBe(true);
    const names = (await readdir(vol)).sort();
    const ts = names.find((n) => TS_DIR.test(n))!;
    expect(ts).toMatch(/^\.\.2026_01_02_03_04_05\./);
    expect(names).toEqual(['..data', ts, 'a', 'dir'].sort());
    expect(await readlink(join(vol, '..data'))).toBe(ts);
    expect(await readlink(join(vol, 'a'))).toBe('..data/a');
    expect(await readlink(join(vol, 'dir'))).toBe('..data/dir');
    expect(await readFile(join(vol, 'dir', 'sub', 'c'), 'utf8')).toBe('C');
    expect((await stat(join(vol, ts))).mode & 0o777).toBe(0o755);
  });

  it('sets the exact modes whatever the umask, keeping permission bits only', async () => {
    const old = process.umask(0o077);
    try {
      await writeAtomic(
        vol,
        files({
          open: ['x', 0o777],
          secret: ['y', 0o400],
          grp: ['z', 0o640],
          suid: ['s', 0o4755],
          neg: ['n', -1],
        }),
      );
    } finally {
      process.umask(old);
    }
    const mode = async (p: string) => (await stat(join(vol, p))).mode & 0o7777;
    expect(await mode('open')).toBe(0o777);
    expect(await mode('secret')).toBe(0o400);
    expect(await mode('grp')).toBe(0o640);
    expect(await mode('suid')).toBe(0o755);
    expect(await mode('neg')).toBe(0o777);
  });

  it('cleans paths like filepath.Clean (./a, a//b)', async () => {
    await writeAtomic(vol, files({ './a': '1', 'd//e': '2' }));
    expect(await readFile(join(vol, 'a'), 'utf8')).toBe('1');
    expect(await readFile(join(vol, 'd', 'e'), 'utf8')).toBe('2');
    expect((await readdir(vol)).filter((n) => !n.startsWith('..')).sort()).toEqual(['a', 'd']);
  });

  it('an empty payload still gets a ..data dir', async () => {
    expect(await writeAtomic(vol, new Map())).toBe(true);
    expect(await readdir(join(vol, '..data'))).toEqual([]);
  });
});

describe('writeAtomic updates', () => {
  it('does not rewrite unchanged content (same ..data target, same inode)', async () => {
    const f = files({ a: 'A', 'd/b': 'B' });
    await writeAtomic(vol, f);
    const target = await readlink(join(vol, '..data'));
    const ino = (await stat(join(vol, 'a'))).ino;
    expect(await writeAtomic(vol, f)).toBe(false);
    expect(await readlink(join(vol, '..data'))).toBe(target);
    expect((await stat(join(vol, 'a'))).ino).toBe(ino);
  });

  it('recreates a missing top-level link even when the content is unchanged', async () => {
    const f = files({ a: 'A' });
    await writeAtomic(vol, f);
    await rm(join(vol, 'a'));
    expect(await writeAtomic(vol, f)).toBe(false);
    expect(await readFile(join(vol, 'a'), 'utf8')).toBe('A');
  });

  it('swaps ..data to a new dir, removes stale links and the old dir', async () => {
    await writeAtomic(vol, files({ keep: '1', gone: '2', 'olddir/x': '3' }));
    const first = await readlink(join(vol, '..data'));
    expect(await writeAtomic(vol, files({ keep: 'changed', fresh: '4' }))).toBe(true);
    const second = await readlink(join(vol, '..data'));
    expect(second).not.toBe(first);
    expect((await readdir(vol)).sort()).toEqual(['..data', second, 'fresh', 'keep'].sort());
    expect(await readFile(join(vol, 'keep'), 'utf8')).toBe('changed');
    await expect(lstat(join(vol, first))).rejects.toThrow();
  });

  it('like upstream shouldWritePayload, a mode change alone is not rewritten (content decides)', async () => {
    // The fsGroup ownership change widens modes (0400 → 0440): that must not rewrite every sync.
    await writeAtomic(vol, files({ a: ['A', 0o400] }));
    await chmod(join(vol, 'a'), 0o440);
    expect(await writeAtomic(vol, files({ a: ['A', 0o400] }))).toBe(false);
    expect((await stat(join(vol, 'a'))).mode & 0o777).toBe(0o440);
  });

  it('a path gone from the payload is a write even when the rest is unchanged (pathsToRemove)', async () => {
    await writeAtomic(vol, files({ a: 'A', 'd/x': 'X', 'd/y': 'Y' }));
    expect(await writeAtomic(vol, files({ a: 'A', 'd/x': 'X' }))).toBe(true);
    await expect(lstat(join(vol, 'd', 'y'))).rejects.toThrow();
    expect(await readFile(join(vol, 'd', 'x'), 'utf8')).toBe('X');
  });

  it('setPerms runs on the new set before ..data is swapped to it', async () => {
    await writeAtomic(vol, files({ a: 'A' }));
    const first = await readlink(join(vol, '..data'));
    let seen: { data: string; entries: string[] } | undefined;
    await writeAtomic(vol, files({ a: 'B' }), new Date(), async () => {
      const entries = (await readdir(vol)).filter((n) => TS_DIR.test(n));
      seen = { data: await readlink(join(vol, '..data')), entries };
    });
    expect(seen?.data).toBe(first);
    expect(seen?.entries).toHaveLength(2);
    expect(await readFile(join(vol, 'a'), 'utf8')).toBe('B');
  });

  it('setPerms is not called when nothing is written; its failure publishes nothing', async () => {
    await writeAtomic(vol, files({ a: 'A' }));
    let calls = 0;
    await writeAtomic(vol, files({ a: 'A' }), new Date(), async () => {
      calls++;
    });
    expect(calls).toBe(0);
    const before = (await readdir(vol)).sort();
    await expect(
      writeAtomic(vol, files({ a: 'B' }), new Date(), async () => Promise.reject(new Error('EPERM'))),
    ).rejects.toThrow('EPERM');
    expect((await readdir(vol)).sort()).toEqual(before);
    expect(await readFile(join(vol, 'a'), 'utf8')).toBe('A');
  });

  it('fsUser owns the file and its top-level link (upstream lchown(FsUser, -1))', async () => {
    const f = new Map<string, FileProjection>([
      ['token', { data: Buffer.from('t'), mode: 0o600, fsUser: 1234 }],
      ['d/x', { data: Buffer.from('x'), mode: 0o644, fsUser: 1234 }],
      ['plain', { data: Buffer.from('p'), mode: 0o644 }],
    ]);
    await writeAtomic(vol, f);
    expect((await stat(join(vol, 'token'))).uid).toBe(1234);
    expect((await lstat(join(vol, 'token'))).uid).toBe(1234);
    expect((await stat(join(vol, 'd', 'x'))).uid).toBe(1234);
    expect((await lstat(join(vol, 'd'))).uid).toBe(1234);
    expect((await stat(join(vol, 'plain'))).uid).toBe(process.getuid?.());
  });

  it('leaves entries that were never part of the payload', async () => {
    await writeAtomic(vol, files({ a: 'A' }));
    await mkdir(join(vol, 'subpath-dir'));
    await writeAtomic(vol, files({ b: 'B' }));
    expect((await readdir(vol)).filter((n) => !n.startsWith('..')).sort()).toEqual(['b', 'subpath-dir']);
  });

  it('a payload that cannot be written leaves the previous set and no half-written dir', async () => {
    await writeAtomic(vol, files({ a: 'A' }));
    const before = (await readdir(vol)).sort();
    await expect(writeAtomic(vol, files({ x: '1', 'x/y': '2' }))).rejects.toThrow();
    expect((await readdir(vol)).sort()).toEqual(before);
    expect(await readFile(join(vol, 'a'), 'utf8')).toBe('A');
  });
});

describe('path validation', () => {
  it.each([
    ['', 'invalid path: must not be empty: ""'],
    ['/etc/passwd', 'invalid path: must be relative path: /etc/passwd'],
    ['..', "invalid path: must not contain '..': .."],
    ['../escape', "invalid path: must not contain '..': ../escape"],
    ['a/../../escape', "invalid path: must not contain '..': a/../../escape"],
    ['a/..', "invalid path: must not contain '..': a/.."],
    ['..data/x', "invalid path: must not start with '..': ..data/x"],
    ['..hidden', "invalid path: must not start with '..': ..hidden"],
    [`${'x'.repeat(256)}`, 'invalid path: filenames must be less than or equal to 255 characters'],
    [`${'a/'.repeat(2049)}b`, 'invalid path: must be less than or equal to 4096 characters'],
  ])('%j is rejected', (p, message) => {
    expect(() => validatePath(p)).toThrow(new PathError(message));
  });

  it.each(['a', 'a/b', 'a..b', 'a/..b', '.a', 'dir/..c', 'x'.repeat(255)])('%j is accepted', (p) => {
    expect(() => validatePath(p)).not.toThrow();
  });

  it.each(['../outside', '/abs/outside', 'a/../../outside', '..data_tmp', '..data/x'])(
    'writeAtomic(%j) writes nothing at all, inside or outside the volume',
    async (bad) => {
      const outside = join(root, 'outside');
      await writeFile(outside, 'original');
      const escaped = join(root, 'abs');
      await expect(writeAtomic(vol, files({ ok: 'fine', [bad]: 'pwned' }))).rejects.toThrow(PathError);
      expect(await readFile(outside, 'utf8')).toBe('original');
      await expect(lstat(escaped)).rejects.toThrow();
      await expect(lstat(vol)).rejects.toThrow(); // validated before the volume dir is even created
      expect((await readdir(root)).sort()).toEqual(['outside']);
    },
  );

  it('rejects a bad path on update too, leaving the current set untouched', async () => {
    await writeAtomic(vol, files({ a: 'A' }));
    const before = (await readdir(vol)).sort();
    await expect(writeAtomic(vol, files({ a: 'B', '../x': 'pwned' }))).rejects.toThrow(PathError);
    expect((await readdir(vol)).sort()).toEqual(before);
    expect(await readFile(join(vol, 'a'), 'utf8')).toBe('A');
    expect((await readdir(root)).sort()).toEqual(['volume']);
  });

  it('does not follow a symlink planted where a user path goes', async () => {
    const outside = join(root, 'target');
    await writeFile(outside, 'original');
    await mkdir(vol, { recursive: true });
    await symlink(outside, join(vol, 'a'));
    await writeAtomic(vol, files({ a: 'new' }));
    expect(await readFile(outside, 'utf8')).toBe('original');
  });
});
