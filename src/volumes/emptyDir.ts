import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../util/log.js';
import { setVolumeOwnership } from './ownership.js';

const run = promisify(execFile);

/** A volume could not be set up; the message is the FailedMount text. */
export class VolumeError extends Error {
  override readonly name = 'VolumeError';
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4]?.replace(/\\040/g, ' ');
    if (mp && (mp === dir || mp.startsWith(`${dir}/`))) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

async function isMountPoint(dir: string): Promise<boolean> {
  return (await mountsUnder(dir)).includes(dir);
}

/**
 * PURE. Upstream IsTmpfsNoswapOptionSupported: `noswap` exists from kernel 6.4 on and is refused
 * inside a user namespace (uid_map other than the identity map of the whole range).
 */
export function tmpfsNoswapSupported(kernelRelease: string, uidMap: string): boolean {
  const [major = 0, minor = 0] = kernelRelease.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const fields = uidMap.trim().split(/\s+/);
  const inUserNs =
    uidMap.trim() !== '' && !(fields[0] === '0' && fields[1] === '0' && fields[2] === '4294967295');
  if (inUserNs) return false;
  return major > 6 || (major === 6 && minor >= 4);
}

/** PURE. Upstream generateTmpfsMountOptions: `size=<bytes>` when positive, `noswap` when supported. */
export function tmpfsMountOptions(sizeBytes: number, noswap: boolean): string[] {
  const out: string[] = [];
  if (sizeBytes > 0) out.push(`size=${Math.floor(sizeBytes)}`);
  if (noswap) out.push('noswap');
  return out;
}

let noswapCache: boolean | undefined;
async function noswapSupported(): Promise<boolean> {
  if (noswapCache === undefined) {
    const uidMap = await readFile('/proc/self/uid_map', 'utf8').catch(() => '');
    noswapCache = tmpfsNoswapSupported(release(), uidMap);
  }
  return noswapCache;
}

export interface EmptyDirSpec {
  /** Where the volume lives (for a wrapper, the wrapping plugin's directory). */
  dir: string;
  /** The plugin metadata dir: <pod>/plugins/kubernetes.io~empty-dir/<volume name>. */
  metaDir: string;
  medium: string;
  /** tmpfs size in bytes (medium Memory); 0 = the kernel default. */
  sizeBytes: number;
  fsGroup?: number;
}

/** 0777: upstream's emptyDir `perm`, so any container user can use the volume. */
const PERM = 0o777;

const isReady = async (metaDir: string) =>
  (await stat(join(metaDir, 'ready')).catch(() => undefined))?.isFile() === true;

/**
 * Upstream emptyDir.SetUpAt. Idempotent through the plugin's `ready` file: once set up (and,
 * for Memory, still mounted) nothing is done again, so the fsGroup ownership change happens at
 * the first set-up only. Otherwise the directory is created 0777 (medium "") or a tmpfs is mounted
 * on it (medium Memory, whose root the kernel makes 1777), then given to the fsGroup
 * (SetVolumeOwnership, read-write), then marked ready.
 */
export async function setUpEmptyDir(s: EmptyDirSpec, log?: Logger): Promise<void> {
  const memory = s.medium === 'Memory';
  if (s.medium !== '' && !memory) {
    if (s.medium.startsWith('HugePages')) {
      throw new VolumeError(`medium ${s.medium} is not supported by kubelet-ts yet`);
    }
    throw new VolumeError(`unknown storage medium "${s.medium}"`);
  }
  const mounted = await isMountPoint(s.dir);
  if (await isReady(s.metaDir)) {
    if (memory && mounted) return;
    if (!memory) {
      if (await stat(s.dir).catch(() => undefined)) return;
      log?.warn({ readyDir: s.metaDir, dir: s.dir }, 'volume ready file exists but the volume dir does not');
      await rm(s.metaDir, { recursive: true, force: true });
    }
  }
  await setupDir(s.dir);
  if (memory && !mounted) {
    const opts = tmpfsMountOptions(s.sizeBytes, await noswapSupported());
    await run('mount', ['-t', 'tmpfs', ...(opts.length > 0 ? ['-o', opts.join(',')] : []), 'tmpfs', s.dir]);
  }
  await setVolumeOwnership(s.dir, s.fsGroup, false, log).catch((err: unknown) =>
    log?.warn({ dir: s.dir, err: String(err) }, 'setting volume ownership failed'),
  );
  await mkdir(s.metaDir, { recursive: true, mode: 0o750 });
  await writeFile(join(s.metaDir, 'ready'), '', { mode: 0o600 });
}

/** Upstream setupDir: MkdirAll 0777, then chmod 0777 if the umask took bits away. */
async function setupDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PERM });
  const st = await lstat(dir);
  if ((st.mode & 0o777) !== PERM) await chmod(dir, PERM);
}

/** Upstream emptyDir TearDownAt: drop the ready dir, unmount a tmpfs, remove the directory. */
export async function tearDownEmptyDir(dir: string, metaDir: string): Promise<void> {
  await rm(metaDir, { recursive: true, force: true });
  for (const mp of await mountsUnder(dir)) await run('umount', [mp]);
  await rm(dir, { recursive: true, force: true });
}
