/**
 * Which cgroup hierarchy this machine runs (upstream libcontainer cgroups.IsCgroup2UnifiedMode:
 * statfs of /sys/fs/cgroup has CGROUP2_SUPER_MAGIC) and which controllers the root offers
 * (cgroup.controllers). /proc/self/mountinfo tells a v1/v2 hybrid (tmpfs at /sys/fs/cgroup with a
 * cgroup2 mount at .../unified) from a pure v1 host.
 */
import { statfs as fsStatfs, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';
/** linux/magic.h CGROUP2_SUPER_MAGIC. */
export const CGROUP2_SUPER_MAGIC = 0x63677270;

export type CgroupMode = 'unified' | 'hybrid' | 'legacy' | 'none';

export interface CgroupHost {
  mode: CgroupMode;
  /** The cgroup2 mount point (the root for unified, .../unified for hybrid); '' for legacy/none. */
  unifiedMount: string;
  /** Controllers in the cgroup2 root's cgroup.controllers (empty unless unified). */
  controllers: string[];
}

export interface MountInfoEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** PURE: /proc/self/mountinfo lines → mount point, fs type, source (fields after the ' - ' separator). */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mountPoint = left[4];
    if (mountPoint === undefined) continue;
    out.push({
      mountPoint: mountPoint.replace(/\\040/g, ' '),
      fsType: right[0] ?? '',
      source: right[1] ?? '',
    });
  }
  return out;
}

/** PURE: the mode the mounts imply for `root` (the last mount on a path wins, as in the kernel). */
export function cgroupModeFromMounts(
  mounts: readonly MountInfoEntry[],
  root = DEFAULT_CGROUP_ROOT,
): {
  mode: CgroupMode;
  unifiedMount: string;
} {
  const at = (p: string) => mounts.filter((m) => m.mountPoint === p).pop();
  if (at(root)?.fsType === 'cgroup2') return { mode: 'unified', unifiedMount: root };
  const under = mounts.filter((m) => m.mountPoint.startsWith(`${root}/`));
  const v2 = under.find((m) => m.fsType === 'cgroup2');
  if (v2) return { mode: 'hybrid', unifiedMount: v2.mountPoint };
  if (under.some((m) => m.fsType === 'cgroup')) return { mode: 'legacy', unifiedMount: '' };
  return { mode: 'none', unifiedMount: '' };
}

export interface DetectOptions {
  root?: string;
  /** Injected for tests; default fs.promises.statfs. */
  statfs?: (path: string) => Promise<{ type: number }>;
  /** Injected for tests; default the text of /proc/self/mountinfo. */
  mountInfo?: () => Promise<string>;
}

/** Reads the cgroup setup of this machine (never writes). */
export async function detectCgroups(opts: DetectOptions = {}): Promise<CgroupHost> {
  const root = opts.root ?? DEFAULT_CGROUP_ROOT;
  const statfs = opts.statfs ?? fsStatfs;
  let unified = false;
  try {
    unified = (await statfs(root)).type === CGROUP2_SUPER_MAGIC;
  } catch {
    unified = false;
  }
  if (unified) {
    const text = await readFile(join(root, 'cgroup.controllers'), 'utf8').catch(() => '');
    return { mode: 'unified', unifiedMount: root, controllers: text.split(/\s+/).filter(Boolean) };
  }
  const text = await (opts.mountInfo ?? (() => readFile('/proc/self/mountinfo', 'utf8')))().catch(() => '');
  const m = cgroupModeFromMounts(parseMountInfo(text), root);
  if (m.mode === 'unified') {
    // statfs disagreed (e.g. a test's fake tree): trust the mount table for the mode only.
    const ctl = await readFile(join(root, 'cgroup.controllers'), 'utf8').catch(() => '');
    return { ...m, controllers: ctl.split(/\s+/).filter(Boolean) };
  }
  return { ...m, controllers: [] };
}

/** Whether systemd is PID 1 (sd_booted: /run/systemd/system exists). */
export async function systemdBooted(runDir = '/run/systemd/system'): Promise<boolean> {
  try {
    await fsStatfs(runDir);
    return true;
  } catch {
    return false;
  }
}
