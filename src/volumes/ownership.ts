import type { Stats } from 'node:fs';
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../util/log.js';

// Upstream pkg/volume/volume_linux.go: rwMask, roMask, execMask; S_ISGID.
const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

/**
 * PURE. The mode upstream changeFilePermission gives one entry of a volume with an fsGroup: the
 * current mode (permission, setuid/setgid/sticky bits) plus group (and owner) read, and write
 * unless the volume is read-only; directories also get the setgid bit and search permission, so
 * files created later inherit the group. Symlinks are never chmod'ed (undefined).
 */
export function ownershipMode(
  mode: number,
  kind: 'dir' | 'file' | 'symlink',
  readOnly: boolean,
): number | undefined {
  if (kind === 'symlink') return undefined;
  let mask = readOnly ? RO_MASK : RW_MASK;
  if (kind === 'dir') mask |= SETGID | EXEC_MASK;
  return (mode & 0o7777) | mask;
}

const kindOf = (st: Stats): 'dir' | 'file' | 'symlink' =>
  st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';

/**
 * Upstream VolumeOwnership.ChangePermissions (SetVolumeOwnership) with fsGroupChangePolicy
 * Always: walks `dir` depth first (children before their directory, the root last, symlinks not
 * followed), gives every entry the group `fsGroup` (lchown, uid unchanged) and the mode of
 * {@link ownershipMode}. Like upstream, a failing lchown or chmod is logged, not fatal; a
 * directory that cannot be read is.
 */
export async function setVolumeOwnership(
  dir: string,
  fsGroup: number | undefined,
  readOnly: boolean,
  log?: Logger,
): Promise<void> {
  if (fsGroup === undefined || fsGroup === null) return;
  const visit = async (path: string, st: Stats): Promise<void> => {
    if (st.isDirectory()) {
      for (const name of await readdir(path)) {
        const child = join(path, name);
        const cst = await lstat(child).catch(() => undefined);
        if (cst) await visit(child, cst);
      }
    }
    await lchown(path, -1, fsGroup).catch((err: unknown) =>
      log?.warn({ path, err: String(err) }, 'Lchown failed'),
    );
    const mode = ownershipMode(st.mode, kindOf(st), readOnly);
    if (mode === undefined) return;
    await chmod(path, mode).catch((err: unknown) => log?.warn({ path, err: String(err) }, 'chmod failed'));
  };
  await visit(dir, await lstat(dir));
}
