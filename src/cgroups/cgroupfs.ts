/**
 * The small cgroup v2 filesystem reader/writer: every file the kubelet reads or writes below a
 * root (default /sys/fs/cgroup; tests give a temp dir holding a fake tree).
 *
 * Paths are cgroup paths as the drivers spell them ('/kubepods/burstable', '/kubepods.slice/...').
 * What the kernel does by itself on a real cgroupfs (interface files appear on mkdir, rmdir
 * ignores them) is the only difference to a plain directory tree; `remove` handles both.
 */
import { mkdir, readdir, readFile, rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP2_SUPER_MAGIC, DEFAULT_CGROUP_ROOT } from './detect.js';

const isErr = (e: unknown, code: string) => (e as NodeJS.ErrnoException | undefined)?.code === code;

export interface CgroupFsOptions {
  root?: string;
  /** Kills a process left in a cgroup being removed; default process.kill(pid, 'SIGKILL'). */
  killProcess?: (pid: number) => void;
}

export class CgroupFs {
  readonly root: string;
  private readonly killProcess: (pid: number) => void;

  constructor(opts: CgroupFsOptions = {}) {
    this.root = opts.root ?? DEFAULT_CGROUP_ROOT;
    this.killProcess = opts.killProcess ?? ((pid) => process.kill(pid, 'SIGKILL'));
  }

  /** Absolute path of a cgroup (or of one of its files). */
  path(cgroup: string, file?: string): string {
    const dir = join(this.root, cgroup);
    return file ? join(dir, file) : dir;
  }

  async exists(cgroup: string): Promise<boolean> {
    try {
      return (await readdir(this.path(cgroup))) !== undefined;
    } catch (e) {
      if (isErr(e, 'ENOENT') || isErr(e, 'ENOTDIR')) return false;
      throw e;
    }
  }

  /** A file's content, trimmed; undefined when it does not exist. */
  async read(cgroup: string, file: string): Promise<string | undefined> {
    try {
      return (await readFile(this.path(cgroup, file), 'utf8')).trim();
    } catch (e) {
      if (isErr(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  async write(cgroup: string, file: string, value: string): Promise<void> {
    await writeFile(this.path(cgroup, file), value);
  }

  /** Writes only when the current content differs (a cgroup write can be costly: memory.max reclaims). */
  async writeIfChanged(cgroup: string, file: string, value: string): Promise<boolean> {
    if ((await this.read(cgroup, file).catch(() => undefined)) === value) return false;
    await this.write(cgroup, file, value);
    return true;
  }

  /** Controllers listed in a cgroup's cgroup.controllers. */
  async controllers(cgroup: string): Promise<string[]> {
    return ((await this.read(cgroup, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean);
  }

  /**
   * runc's fs2 CreateCgroupPath: creates every missing directory down to `cgroup` and enables
   * `controllers` in cgroup.subtree_control of the root and of every ancestor (not the leaf);
   * when the combined write fails, each controller is tried alone.
   */
  async create(cgroup: string, controllers: readonly string[]): Promise<void> {
    const parts = cgroup.split('/').filter(Boolean);
    const enable = controllers.map((c) => `+${c}`);
    let current = '/';
    for (let i = 0; i < parts.length; i++) {
      if (enable.length > 0) await this.enableControllers(current, enable);
      current = `${current === '/' ? '' : current}/${parts[i]}`;
      await mkdir(this.path(current)).catch((e) => {
        if (!isErr(e, 'EEXIST')) throw e;
      });
    }
  }

  private async enableControllers(cgroup: string, enable: readonly string[]): Promise<void> {
    const file = 'cgroup.subtree_control';
    const current = new Set(((await this.read(cgroup, file).catch(() => '')) ?? '').split(/\s+/));
    const missing = enable.filter((c) => !current.has(c.slice(1)) && !current.has(c));
    if (missing.length === 0) return;
    try {
      await this.write(cgroup, file, missing.join(' '));
    } catch {
      for (const c of missing) await this.write(cgroup, file, c).catch(() => {});
    }
  }

  /** Names of the child cgroups (directories) of a cgroup; [] when it does not exist. */
  async children(cgroup: string): Promise<string[]> {
    try {
      const entries = await readdir(this.path(cgroup), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (e) {
      if (isErr(e, 'ENOENT')) return [];
      throw e;
    }
  }

  /** PIDs in cgroup.procs of a cgroup and all its descendants. */
  async procs(cgroup: string): Promise<number[]> {
    const own = ((await this.read(cgroup, 'cgroup.procs').catch(() => '')) ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
    const nested = await Promise.all(
      (await this.children(cgroup)).map((c) => this.procs(`${cgroup.replace(/\/$/, '')}/${c}`)),
    );
    return [...own, ...nested.flat()];
  }

  /**
   * Upstream pod cgroup Destroy: kill what is left inside (cgroup.kill when the kernel has it,
   * else SIGKILL per PID), then remove the cgroup and its descendants, deepest first. Resolves
   * false when it could not (processes still exiting): housekeeping tries again.
   */
  async remove(cgroup: string): Promise<boolean> {
    if (!(await this.exists(cgroup))) return true;
    const pids = await this.procs(cgroup);
    if (pids.length > 0) {
      if ((await this.read(cgroup, 'cgroup.kill').catch(() => undefined)) !== undefined) {
        await this.write(cgroup, 'cgroup.kill', '1').catch(() => {});
      } else {
        for (const pid of pids) {
          try {
            this.killProcess(pid);
          } catch {
            // Already gone.
          }
        }
      }
    }
    return this.removeTree(cgroup);
  }

  private async removeTree(cgroup: string): Promise<boolean> {
    for (const c of await this.children(cgroup)) {
      if (!(await this.removeTree(`${cgroup.replace(/\/$/, '')}/${c}`))) return false;
    }
    try {
      await rmdir(this.path(cgroup));
      return true;
    } catch (e) {
      if (isErr(e, 'ENOENT')) return true;
      if (isErr(e, 'EBUSY')) return false;
      // ENOTEMPTY only happens on a plain filesystem (a fake tree): its interface files are real files.
      if (isErr(e, 'ENOTEMPTY') && !(await this.isCgroup2())) {
        await rm(this.path(cgroup), { recursive: true, force: true });
        return true;
      }
      throw e;
    }
  }

  private async isCgroup2(): Promise<boolean> {
    try {
      return (await statfs(this.root)).type === CGROUP2_SUPER_MAGIC;
    } catch {
      return false;
    }
  }
}
