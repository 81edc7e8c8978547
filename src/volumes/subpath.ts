import { chmod, lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';

/** A subPath directory could not be created; the message is upstream's (no host details). */
export class SubPathError extends Error {
  override readonly name = 'SubPathError';
}

const within = (path: string, base: string) => path === base || path.startsWith(`${base}/`);

/**
 * Upstream makeMounts + SafeMakeDir for a volumeMount subPath that does not exist yet: every
 * missing component is created inside the volume with the mode of the volume's root, setgid and
 * sticky bits included, so an fsGroup volume's subPath is group-writable and passes the group on
 * (a runtime would otherwise create it 0755 owned by root). An existing path is left as it is.
 * Returns the host path to mount.
 */
export async function makeSubPath(
  volumePath: string,
  subPath: string,
  volumeName: string,
  containerName: string,
): Promise<string> {
  const target = join(volumePath, subPath);
  if (await lstat(target).catch(() => undefined)) return target;
  const fail = () =>
    new SubPathError(
      `failed to create subPath directory for volumeMount "${volumeName}" of container "${containerName}"`,
    );
  try {
    const perm = (await stat(volumePath)).mode & 0o7777;
    const base = await realpath(volumePath);
    const parts = posix
      .normalize(subPath)
      .split('/')
      .filter((p) => p !== '' && p !== '.');
    let existing = volumePath;
    let i = 0;
    for (; i < parts.length; i++) {
      const next = join(existing, parts[i]!);
      if (!(await lstat(next).catch(() => undefined))) break;
      existing = next;
    }
    let current = await realpath(existing);
    if (!within(current, base)) throw fail();
    for (; i < parts.length; i++) {
      current = join(current, parts[i]!);
      await mkdir(current, { mode: perm & 0o777 });
      // mkdir honours the umask and drops setgid/sticky: set the root's exact mode.
      await chmod(current, perm);
    }
    return target;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return target;
    throw err instanceof SubPathError ? err : fail();
  }
}
