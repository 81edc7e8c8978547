import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Pod } from '../api/types.js';
import { memoryToBytes } from '../util/quantity.js';
import { PathError, writeAtomic } from './atomicWriter.js';
import { ProjectionError, type VolumeLookup, volumeFiles } from './projections.js';

export interface VolumeMountSource {
  hostPath: string;
  /** The plugin mounts read-only whatever the volumeMount says (secret, configMap, projected, downwardAPI). */
  forceReadOnly: boolean;
}

export interface VolumeFailure {
  volume: string;
  message: string;
}

/** One or more volumes of a pod could not be set up (FailedMount). */
export class VolumeSetupError extends Error {
  override readonly name = 'VolumeSetupError';
  constructor(readonly failures: VolumeFailure[]) {
    super(failures.map((f) => `MountVolume.SetUp failed for volume "${f.volume}" : ${f.message}`).join('; '));
  }
}

type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];

const run = promisify(execFile);

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4]?.replace(/\\040/g, ' ');
    if (mp && (mp === dir || mp.startsWith(`${dir}/`))) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

const PLUGIN_DIR: Record<string, string> = {
  projected: 'kubernetes.io~projected',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  emptyDir: 'kubernetes.io~empty-dir',
};

/** Upstream hostutil getFileType names ('' = none of them, e.g. a FIFO). */
function fileType(st: Stats): string {
  if (st.isDirectory()) return 'Directory';
  if (st.isFile()) return 'File';
  if (st.isSocket()) return 'Socket';
  if (st.isCharacterDevice()) return 'CharDevice';
  if (st.isBlockDevice()) return 'BlockDevice';
  return '';
}

/**
 * Prepares a pod's volumes under <rootDir>/pods/<uid>/volumes/<plugin>/<name> and tells the
 * syncer which host path backs each volume. API-backed volumes are rewritten atomically on each
 * call, so ConfigMap/Secret/token updates reach running pods on the next sync.
 */
export class VolumeManager {
  constructor(
    private readonly rootDir: string,
    private readonly lookup: VolumeLookup,
    /** Node allocatable memory: the upper bound of a Memory emptyDir. */
    private readonly allocatableMemoryBytes = 0,
  ) {}

  podDir(uid: string): string {
    return join(this.rootDir, 'pods', uid);
  }

  async setUpPod(pod: Pod, signal?: AbortSignal): Promise<Map<string, VolumeMountSource>> {
    const uid = pod.metadata?.uid ?? '';
    const podDir = this.podDir(uid);
    await mkdir(join(podDir, 'volumes'), { recursive: true, mode: 0o750 });
    await mkdir(join(podDir, 'plugins'), { recursive: true, mode: 0o750 });
    const out = new Map<string, VolumeMountSource>();
    const failures: VolumeFailure[] = [];
    await Promise.all(
      (pod.spec?.volumes ?? []).map(async (vol) => {
        try {
          out.set(vol.name, await this.setUpVolume(pod, podDir, vol, signal));
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          failures.push({ volume: vol.name, message });
        }
      }),
    );
    if (failures.length > 0) throw new VolumeSetupError(failures);
    return out;
  }

  private async setUpVolume(
    pod: Pod,
    podDir: string,
    vol: Volume,
    signal?: AbortSignal,
  ): Promise<VolumeMountSource> {
    const kind = Object.keys(PLUGIN_DIR).find((k) => (vol as Record<string, unknown>)[k] !== undefined);
    if (vol.hostPath)
      return {
        hostPath: await this.checkHostPath(vol.hostPath.path, vol.hostPath.type ?? ''),
        forceReadOnly: false,
      };
    if (!kind) {
      const t = Object.keys(vol).find((k) => k !== 'name') ?? 'unknown';
      throw new ProjectionError(`volume type ${t} is not supported by kubelet-ts yet`);
    }
    const dir = join(podDir, 'volumes', PLUGIN_DIR[kind]!, vol.name);
    if (vol.emptyDir) {
      await mkdir(dir, { recursive: true });
      if (vol.emptyDir.medium === 'Memory' && (await mountsUnder(dir)).length === 0) {
        const size = this.memoryVolumeSize(pod, vol.emptyDir.sizeLimit);
        await run('mount', ['-t', 'tmpfs', '-o', `mode=0777${size ? `,size=${size}` : ''}`, 'tmpfs', dir]);
      }
      const { chmod } = await import('node:fs/promises');
      await chmod(dir, 0o777);
      return { hostPath: dir, forceReadOnly: false };
    }
    const files = await volumeFiles(pod, vol, this.lookup, signal);
    try {
      await writeAtomic(dir, files);
    } catch (err) {
      if (err instanceof PathError) throw new ProjectionError(err.message);
      throw err;
    }
    return { hostPath: dir, forceReadOnly: true };
  }

  /** tmpfs size: the smallest of sizeLimit, the pod's memory limit and node allocatable memory. */
  private memoryVolumeSize(pod: Pod, sizeLimit: string | number | undefined): number {
    const candidates: number[] = [];
    if (this.allocatableMemoryBytes > 0) candidates.push(this.allocatableMemoryBytes);
    if (sizeLimit !== undefined && sizeLimit !== null) candidates.push(memoryToBytes(String(sizeLimit)));
    const limits = (pod.spec?.containers ?? []).map((c) => c.resources?.limits?.memory);
    if (limits.length > 0 && limits.every((l) => l !== undefined)) {
      candidates.push(limits.reduce<number>((sum, l) => sum + memoryToBytes(String(l)), 0));
    }
    return candidates.length > 0 ? Math.min(...candidates) : 0;
  }

  /** Upstream hostPathMounter.SetUp: no `..` components, then the type check (checkTypeInternal). */
  private async checkHostPath(path: string, type: string): Promise<string> {
    if (path.split('/').includes('..')) {
      throw new ProjectionError(`invalid HostPath \`${path}\`: must not contain '..'`);
    }
    const st = await stat(path).catch(() => undefined);
    const kind = st ? fileType(st) : undefined;
    const want = (expected: string, what: string) => {
      if (kind === expected) return;
      if (kind === undefined) {
        throw new ProjectionError(
          `hostPath type check failed, ${path} is not a ${what}, unable to determine its type: path ${JSON.stringify(path)} does not exist`,
        );
      }
      if (kind === '') {
        throw new ProjectionError(
          `hostPath type check failed, ${path} is not a ${what}, unable to determine its type: only recognise file, directory, socket, block device and character device`,
        );
      }
      throw new ProjectionError(`hostPath type check failed: ${path} is not a ${what}, it's a ${kind}`);
    };
    switch (type) {
      case '':
        return path;
      case 'DirectoryOrCreate':
        if (!st) await mkdir(path, { recursive: true, mode: 0o755 });
        else want('Directory', 'directory');
        return path;
      case 'Directory':
        want('Directory', 'directory');
        return path;
      case 'FileOrCreate':
        if (!st) await writeFile(path, '', { mode: 0o644, flag: 'a' });
        else want('File', 'file');
        return path;
      case 'File':
        want('File', 'file');
        return path;
      case 'Socket':
        want('Socket', 'socket file');
        return path;
      case 'CharDevice':
        want('CharDevice', 'character device');
        return path;
      case 'BlockDevice':
        want('BlockDevice', 'block device');
        return path;
      default:
        throw new ProjectionError(`${type} is an invalid volume type`);
    }
  }

  /** Removes everything the kubelet wrote for the pod (volumes, etc-hosts, termination logs). */
  async tearDownPod(uid: string): Promise<void> {
    if (!uid || uid.includes('/') || uid.includes('..')) return;
    // Unmount tmpfs volumes first: rm must never descend into a mount.
    for (const mp of await mountsUnder(this.podDir(uid))) await run('umount', [mp]);
    await rm(this.podDir(uid), { recursive: true, force: true });
  }
}
