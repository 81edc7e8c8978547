import { randomBytes } from 'node:crypto';
import {
  chmod,
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

async function sameContent(base: string, files: Map<string, FileProjection>): Promise<boolean> {
  const existing = await listFiles(base);
  if (existing.length !== files.size) return false;
  for (const [p, f] of files) {
    try {
      const st = await lstat(join(base, p));
      if (!st.isFile() || (st.mode & 0o7777) !== f.mode) return false;
      if (!(await readFile(join(base, p))).equals(f.data)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function listFiles(base: string, prefix = ''): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(join(base, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(base, rel)));
    else out.push(rel);
  }
  return out;
}

/**
 * Upstream's AtomicWriter: the files live in a hidden timestamped directory, `..data` points at
 * it, and each top-level user path is a symlink through `..data`. An update writes a new
 * directory and swaps `..data` with one rename, so a reader never sees a half-written set; then
 * top-level paths of the old set that are gone are removed, and the old directory.
 * Every path is validated before anything is written. Modes keep the permission bits only
 * (0–0777), as Go's os.FileMode does. Returns false when the content was already there.
 */
export async function writeAtomic(
  dir: string,
  files: Map<string, FileProjection>,
  now = new Date(),
): Promise<boolean> {
  const clean = new Map<string, FileProjection>();
  for (const [p, f] of files) {
    validatePath(p);
    clean.set(cleanPath(p), { data: f.data, mode: f.mode & 0o777 });
  }
  await mkdir(dir, { recursive: true, mode: 0o750 });

  let oldTs: string | undefined;
  try {
    oldTs = await readlink(join(dir, DATA));
  } catch {
    oldTs = undefined;
  }
  const wanted = new Set([...clean.keys()].map((p) => p.split('/')[0]!));
  const unchanged = oldTs !== undefined && (await sameContent(join(dir, oldTs), clean));
  if (!unchanged) {
    const ts = tsDirName(now);
    const tsPath = join(dir, ts);
    await mkdir(tsPath, { mode: 0o755 });
    try {
      for (const [p, f] of clean) {
        const full = join(tsPath, p);
        await mkdir(dirname(full), { recursive: true, mode: 0o755 });
        await writeFile(full, f.data, { mode: f.mode });
        // writeFile honours the umask; set the exact mode afterwards.
        await chmod(full, f.mode);
      }
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
  for (const top of wanted) {
    const link = join(dir, top);
    const st = await lstat(link).catch(() => undefined);
    if (!st) await symlink(posix.join(DATA, top), link);
  }
  if (!unchanged && oldTs !== undefined) {
    // Top-level paths of the previous set that the new one lacks (upstream pathsToRemove).
    for (const name of await readdir(join(dir, oldTs)).catch(() => [] as string[])) {
      if (!wanted.has(name)) await rm(join(dir, name), { recursive: true, force: true });
    }
    await rm(join(dir, oldTs), { recursive: true, force: true });
  }
  return !unchanged;
}
