import { randomBytes } from 'node:crypto';
import {
  chmod,
  lchown,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

export interface FileProjection {
  data: Buffer;
  mode: number;
  /** The file's owner uid (upstream FsUser); undefined = the kubelet's (root). */
  fsUser?: number;
}

export class PathError extends Error {
  override readonly name = 'PathError';
}

/**
 * Upstream validatePath: rejects paths that could escape the volume (absolute, a `..` component,
 * a first component starting with `..`) and over-long paths or file names.
 */
export function validatePath(p: string): void {
  if (p === '') throw new PathError('invalid path: must not be empty: ""');
  if (posix.isAbsolute(p)) throw new PathError(`invalid path: must be relative path: ${p}`);
  if (p.length > 4096) throw new PathError('invalid path: must be less than or equal to 4096 characters');
  const items = p.split('/');
  for (const item of items) {
    if (item === '..') throw new PathError(`invalid path: must not contain '..': ${p}`);
    if (Buffer.byteLength(item) > 255) {
      throw new PathError('invalid path: filenames must be less than or equal to 255 characters');
    }
  }
  if (items[0]!.startsWith('..')) throw new PathError(`invalid path: must not start with '..': ${p}`);
}

/** Go's filepath.Clean for an already validated relative path: `./a//b/` → `a/b`. */
function cleanPath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

const DATA = '..data';
const DATA_TMP = '..data_tmp';

function tsDirName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.${randomBytes(5).toString('hex')}`;
}

/** Upstream shouldWritePayload: some file is new or its content differs (modes are not compared). */
async function contentChanged(base: string, files: Map<string, FileProjection>): Promise<boolean> {
  for (const [p, f] of files) {
    const st = await lstat(join(base, p)).catch(() => undefined);
    if (!st) return true;
    if (!(await readFile(join(base, p))).equals(f.data)) return true;
  }
  return false;
}

/** Every path (files and directories) below `base`, relative to it. */
async function listPaths(base: string, prefix = ''): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(join(base, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await listPaths(base, rel)));
  }
  return out;
}

/** Upstream pathsToRemove: paths of the old set that are neither a new path nor a parent of one. */
async function pathsToRemove(oldTsPath: string, files: Map<string, FileProjection>): Promise<string[]> {
  const keep = new Set<string>();
  for (const p of files.keys()) {
    for (let sub = p; sub !== '' && sub !== '.'; sub = posix.dirname(sub)) keep.add(sub);
  }
  return (await listPaths(oldTsPath)).filter((p) => !keep.has(p));
}

/**
 * Upstream's AtomicWriter: the files live in a hidden timestamped directory, `..data` points at
 * it, and each top-level user path is a symlink through `..data`. An update writes a new
 * directory, lets `setPerms` adjust the whole volume (the fsGroup ownership change), and swaps
 * `..data` with one rename, so a reader never sees a half-written set; then top-level paths of
 * the old set that are gone are removed, and the old directory.
 * Every path is validated before anything is written. Modes keep the permission bits only
 * (0–0777), as Go's os.FileMode does; a file with `fsUser` is owned by that uid, as is its
 * top-level link. Like upstream, only content decides whether a new set is written (not modes,
 * which setPerms may have widened). Returns false when the content was already there.
 */
export async function writeAtomic(
  dir: string,
  files: Map<string, FileProjection>,
  now = new Date(),
  setPerms?: () => Promise<void>,
): Promise<boolean> {
  const clean = new Map<string, FileProjection>();
  for (const [p, f] of files) {
    validatePath(p);
    clean.set(cleanPath(p), { ...f, mode: f.mode & 0o777 });
  }
  await mkdir(dir, { recursive: true, mode: 0o750 });

  let oldTs: string | undefined;
  try {
    oldTs = await readlink(join(dir, DATA));
  } catch {
    oldTs = undefined;
  }
  let stale: string[] = [];
  let write = true;
  if (oldTs !== undefined) {
    stale = await pathsToRemove(join(dir, oldTs), clean);
    write = stale.length > 0 || (await contentChanged(join(dir, oldTs), clean));
  }
  if (write) {
    const ts = tsDirName(now);
    const tsPath = join(dir, ts);
    await mkdir(tsPath, { mode: 0o755 });
    // mkdir honours the umask; 0755 lets group and others walk the tree.
    await chmod(tsPath, 0o755);
    try {
      for (const [p, f] of clean) {
        const full = join(tsPath, p);
        await mkdir(dirname(full), { recursive: true, mode: 0o755 });
        await writeFile(full, f.data, { mode: f.mode });
        // writeFile honours the umask; set the exact mode afterwards.
        await chmod(full, f.mode);
        if (f.fsUser !== undefined) await lchown(full, f.fsUser, -1);
      }
      if (setPerms) await setPerms();
      await rm(join(dir, DATA_TMP), { force: true });
      await symlink(ts, join(dir, DATA_TMP));
      await rename(join(dir, DATA_TMP), join(dir, DATA));
    } catch (err) {
      // e.g. "a" and "a/b" in one payload: leave the previous set in place, no half-written dir.
      await rm(tsPath, { recursive: true, force: true });
      throw err;
    }
  }

  // Like upstream createUserVisibleFiles, missing top-level links are (re)created every time.
  for (const [p, f] of clean) {
    const top = p.split('/')[0]!;
    const link = join(dir, top);
    const st = await lstat(link).catch(() => undefined);
    if (st) continue;
    await symlink(posix.join(DATA, top), link);
    if (f.fsUser !== undefined) await lchown(link, f.fsUser, -1);
  }
  if (write && oldTs !== undefined) {
    // Upstream removeUserVisiblePaths: only top-level entries, then the old timestamped dir.
    for (const p of stale) if (!p.includes('/')) await rm(join(dir, p), { recursive: true, force: true });
    await rm(join(dir, oldTs), { recursive: true, force: true });
  }
  return write;
}
