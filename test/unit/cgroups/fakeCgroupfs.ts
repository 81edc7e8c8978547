import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every controller a Debian guest's cgroup2 root offers. */
export const ALL_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];

/**
 * A fake cgroup v2 tree in a temp dir: the root's files as the kernel shows them on a fresh
 * boot. Never the real /sys/fs/cgroup.
 */
export class FakeCgroupfs {
  private constructor(readonly root: string) {}

  static async create(files: Record<string, string> = {}): Promise<FakeCgroupfs> {
    const root = await mkdtemp(join(tmpdir(), 'kts-fake-cgroupfs-'));
    const fake = new FakeCgroupfs(root);
    await fake.write('/', 'cgroup.controllers', `${ALL_CONTROLLERS.join(' ')}\n`);
    await fake.write('/', 'cgroup.subtree_control', '');
    await fake.write('/', 'cgroup.procs', '1\n');
    await fake.write(
      '/',
      'memory.pressure',
      'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    );
    for (const [path, content] of Object.entries(files)) {
      const i = path.lastIndexOf('/');
      await fake.write(path.slice(0, i) || '/', path.slice(i + 1), content);
    }
    return fake;
  }

  path(cgroup: string, file?: string): string {
    return file ? join(this.root, cgroup, file) : join(this.root, cgroup);
  }

  async write(cgroup: string, file: string, content: string): Promise<void> {
    await mkdir(this.path(cgroup), { recursive: true });
    await writeFile(this.path(cgroup, file), content);
  }

  /** A file's content, or undefined when missing. */
  async read(cgroup: string, file: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(cgroup, file), 'utf8');
    } catch {
      return undefined;
    }
  }

  async exists(cgroup: string): Promise<boolean> {
    return stat(this.path(cgroup)).then(
      () => true,
      () => false,
    );
  }

  /** Root memory.stat of a node using `anon` + `file` bytes, `inactiveFile` of it inactive. */
  async setRootMemory(anon: number, file: number, inactiveFile: number): Promise<void> {
    await this.write('/', 'memory.stat', memoryStat(anon, file, inactiveFile));
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

export function memoryStat(anon: number, file: number, inactiveFile: number): string {
  return [
    `anon ${anon}`,
    `file ${file}`,
    'kernel 1048576',
    'shmem 0',
    `active_anon ${anon}`,
    `inactive_anon 0`,
    `active_file ${file - inactiveFile}`,
    `inactive_file ${inactiveFile}`,
    'unevictable 0',
    '',
  ].join('\n');
}
