import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

export interface FileProjection {
  data: Buffer;
  mode: number;
}

export class PathError extends Error {
  override readonly name = 'PathError';
}

/** Rejects paths that could escape the volume: absolute, `..` components, or a leading `..`. */
export function validatePath(p: string): void {
  if (p === '') throw new PathError('invalid path: must not be empty');
  if (p.length > 4096) throw new PathError(`invalid path: must be less than or equal to 4096 characters`);
  if (posix.isAbsolute(p)) throw new PathError(`invalid path: must be relative path: ${p}`);
  if (p.split('/').includes('..')) throw new PathError(`invalid path: must not contain '..': ${p}`);
  if (p.startsWith('..')) throw new PathError(`invalid path: must not start with '..': ${p}`);
}

const DATA = '..data';
const DATA_TMP = '..data_tmp';

function tsDirName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.${randomBytes(5).toString('hex')}`;
}

async function sameContent(dir: string, files: Map<string, FileProjection>): Promise<boolean> {
  let target: string;
  try {
    target = await readlink(join(dir, DATA));
  } catch {
    return false;
  }
  const base = join(dir, target);
  const existing = await listFiles(base);
  if (existing.length !== files.size) return false;
  for (const [p, f] of files) {
    try {
      const st = await lstat(join(base, p));
      if ((st.mode & 0o7777) !== f.mode) return false;
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
 * directory and swaps `..data` with one rename, so a reader never sees a half-written set.
 * Returns false when the content was already there (nothing written).
 */
export async function writeAtomic(
  dir: string,
  files: Map<string, FileProjection>,
  now = new Date(),
): Promise<boolean> {
  for (const p of files.keys()) validatePath(p);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  if (await sameContent(dir, files)) return false;

  let oldTs: string | undefined;
  try {
    oldTs = await readlink(join(dir, DATA));
  } catch {
    oldTs = undefined;
  }
  const ts = tsDirName(now);
  const tsPath = join(dir, ts);
  await mkdir(tsPath, { mode: 0o755 });
  for (const [p, f] of files) {
    const full = join(tsPath, p);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.data, { mode: f.mode });
  }
  // writeFile honours the umask; set the exact modes afterwards.
  const { chmod } = await import('node:fs/promises');
  for (const [p, f] of files) await chmod(join(tsPath, p), f.mode);

  await rm(join(dir, DATA_TMP), { force: true });
  await symlink(ts, join(dir, DATA_TMP));
  await rename(join(dir, DATA_TMP), join(dir, DATA));

  const wanted = new Set([...files.keys()].map((p) => p.split('/')[0]!));
  for (const top of wanted) {
    const link = join(dir, top);
    const st = await lstat(link).catch(() => undefined);
    if (!st) await symlink(posix.join(DATA, top), link);
  }
  for (const name of await readdir(dir)) {
    if (name.startsWith('..')) continue;
    if (!wanted.has(name)) await rm(join(dir, name), { recursive: true, force: true });
  }
  if (oldTs && oldTs !== ts) await rm(join(dir, oldTs), { recursive: true, force: true });
  return true;
}
