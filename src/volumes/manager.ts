import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeAllocatable } from '../api/resources.js';
import type { Pod } from '../api/types.js';
import { noTimeline, type TimelineSink } from '../timeline/types.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import { memoryToBytes } from '../util/quantity.js';
import { PathError, writeAtomic } from './atomicWriter.js';
import { mountsUnder, setUpEmptyDir, tearDownEmptyDir } from './emptyDir.js';
import { setVolumeOwnership } from './ownership.js';
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

/** The pod's own directories could not be made (upstream makePodDataDirs). */
export class PodDataDirsError extends Error {
  override readonly name = 'PodDataDirsError';
}

type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];

/** How long a pod's sync waits for the refresh of an already published volume. */
const REFRESH_WAIT_MS = 1_000;

const run = promisify(execFile);

const PLUGIN_DIR: Record<string, string> = {
  projected: 'kubernetes.io~projected',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  emptyDir: 'kubernetes.io~empty-dir',
};

/**
 * The emptyDir medium each API-backed plugin wraps (upstream wrappedVolumeSpec): a tmpfs for
 * secrets, projected and downwardAPI volumes; the node's disk for configMaps.
 */
const WRAPPED_MEDIUM: Record<string, string> = {
  configMap: '',
  secret: 'Memory',
  projected: 'Memory',
  downwardAPI: 'Memory',
};

export interface VolumeManagerOptions {
  /** Node allocatable: bounds Memory emptyDirs; default limits for downwardAPI resource files. */
  allocatable?: NodeAllocatable;
  logger?: Logger;
}

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
  private readonly allocatable: NodeAllocatable;
  private readonly log: Logger;
  /** Refreshes of published volumes in flight, by volume directory. */
  private readonly refreshing = new Map<string, Promise<void>>();
  private timeline: TimelineSink = noTimeline;
  /** Volumes whose first set-up is recorded, by pod UID (later re-writes are not). */
  private readonly recorded = new Map<string, Set<string>>();

  constructor(
    private readonly rootDir: string,
    private readonly lookup: VolumeLookup,
    opts: VolumeManagerOptions = {},
  ) {
    this.allocatable = opts.allocatable ?? { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 };
    this.log = opts.logger ?? silentLogger;
  }

  /** Where volume set-ups are recorded (each pod's lifecycle timeline). */
  setTimeline(t: TimelineSink): void {
    this.timeline = t;
  }

  podDir(uid: string): string {
    return join(this.rootDir, 'pods', uid);
  }

  async setUpPod(pod: Pod, signal?: AbortSignal): Promise<Map<string, VolumeMountSource>> {
    const uid = pod.metadata?.uid ?? '';
    const podDir = this.podDir(uid);
    try {
      await mkdir(join(podDir, 'volumes'), { recursive: true, mode: 0o750 });
      await mkdir(join(podDir, 'plugins'), { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new PodDataDirsError(errorMessage(err));
    }
    const out = new Map<string, VolumeMountSource>();
    const failures: VolumeFailure[] = [];
    let recorded = this.recorded.get(uid);
    if (!recorded) {
      recorded = new Set();
      this.recorded.set(uid, recorded);
    }
    const seen = recorded;
    await Promise.all(
      (pod.spec?.volumes ?? []).map(async (vol) => {
        // Upstream's reconciler remounts published volumes in the background: a refresh that
        // fails (the apiserver away, the object gone) or hangs leaves the volume as it was,
        // and the pod's sync goes on after at most REFRESH_WAIT_MS.
        const published = await this.publishedVolume(podDir, vol);
        if (published) {
          await this.refresh(uid, published.hostPath, () => this.setUpVolume(pod, podDir, vol, signal));
          out.set(vol.name, published);
          return;
        }
        const first = !seen.has(vol.name);
        const source = Object.keys(vol).find((k) => k !== 'name') ?? '';
        const end = first
          ? this.timeline.begin(uid, { kind: 'volume', step: `mount ${vol.name}`, detail: source })
          : undefined;
        try {
          out.set(vol.name, await this.setUpVolume(pod, podDir, vol, signal));
          seen.add(vol.name);
          end?.('ok');
        } catch (err) {
          const message = errorMessage(err);
          failures.push({ volume: vol.name, message });
          end?.('FailedMount', `${source}: ${message}`);
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
    const fsGroup = pod.spec?.securityContext?.fsGroup ?? undefined;
    const emptyDirMeta = (name: string) => join(podDir, 'plugins', PLUGIN_DIR.emptyDir!, name);
    if (vol.emptyDir) {
      const medium = vol.emptyDir.medium ?? '';
      await setUpEmptyDir(
        {
          dir,
          metaDir: emptyDirMeta(vol.name),
          medium,
          sizeBytes: medium === 'Memory' ? this.memoryVolumeSize(pod, vol.emptyDir.sizeLimit) : 0,
          fsGroup,
        },
        this.log,
      );
      return { hostPath: dir, forceReadOnly: false };
    }
    // Upstream SetUpAt of configmap/secret/downwardapi/projected: the payload first (its errors
    // leave nothing behind), then the wrapped emptyDir, then the atomic write, whose setPerms
    // gives the whole volume to the fsGroup (read-only rules) before the new set is published.
    const files = await volumeFiles(pod, vol, this.lookup, { allocatable: this.allocatable, signal });
    const medium = WRAPPED_MEDIUM[kind] ?? '';
    const metaDir = emptyDirMeta(`wrapped_${vol.name}`);
    await setUpEmptyDir(
      {
        dir,
        metaDir,
        medium,
        sizeBytes: medium === 'Memory' ? this.memoryVolumeSize(pod, undefined) : 0,
        fsGroup,
      },
      this.log,
    );
    try {
      await writeAtomic(dir, files, new Date(), () => setVolumeOwnership(dir, fsGroup, true, this.log));
    } catch (err) {
      // Upstream tears the volume down when the write fails (setupSuccess false).
      await tearDownEmptyDir(dir, metaDir).catch((e: unknown) =>
        this.log.warn({ dir, err: String(e) }, 'tearing down a failed volume'),
      );
      if (err instanceof PathError) throw new ProjectionError(err.message);
      throw err;
    }
    return { hostPath: dir, forceReadOnly: true };
  }

  /** Refreshes one published volume; one refresh per volume at a time, waited for a bounded time. */
  private async refresh(uid: string, dir: string, work: () => Promise<unknown>): Promise<void> {
    if (this.refreshing.has(dir)) return;
    const p = work()
      .then(
        () => undefined,
        (err: unknown) =>
          this.log.warn(
            { pod: uid, volume: dir, err: errorMessage(err) },
            'volume refresh failed; keeping its contents',
          ),
      )
      .finally(() => this.refreshing.delete(dir));
    this.refreshing.set(dir, p);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, REFRESH_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** A configMap/secret/downwardAPI/projected volume an earlier setup published (its `..data`). */
  private async publishedVolume(podDir: string, vol: Volume): Promise<VolumeMountSource | undefined> {
    const kind = Object.keys(WRAPPED_MEDIUM).find((k) => (vol as Record<string, unknown>)[k] !== undefined);
    if (!kind || PLUGIN_DIR[kind] === undefined) return undefined;
    const dir = join(podDir, 'volumes', PLUGIN_DIR[kind], vol.name);
    const ok = await lstat(join(dir, '..data')).then(
      (st) => st.isSymbolicLink(),
      () => false,
    );
    return ok ? { hostPath: dir, forceReadOnly: true } : undefined;
  }

  /** tmpfs size: the smallest of sizeLimit, the pod's memory limit and node allocatable memory. */
  private memoryVolumeSize(pod: Pod, sizeLimit: string | number | undefined): number {
    const candidates: number[] = [];
    if (this.allocatable.memoryBytes > 0) candidates.push(this.allocatable.memoryBytes);
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

  /**
   * Upstream cleanupOrphanedPodDirs: tears down the directory (volumes, tmpfs mounts included) of
   * every pod not in `keep` (known to the API, a worker, the runtime or a removal in progress),
   * e.g. pods deleted while the kubelet was down.
   */
  async cleanupOrphanedPodDirs(keep: ReadonlySet<string>): Promise<void> {
    for (const uid of await readdir(join(this.rootDir, 'pods')).catch(() => [] as string[])) {
      if (keep.has(uid)) continue;
      this.log.info({ uid }, 'removing orphaned pod directory');
      await this.tearDownPod(uid).catch((err: unknown) =>
        this.log.warn({ uid, err: String(err) }, 'removing an orphaned pod directory failed'),
      );
    }
  }

  /** Removes everything the kubelet wrote for the pod (volumes, etc-hosts, termination logs). */
  async tearDownPod(uid: string): Promise<void> {
    this.recorded.delete(uid);
    if (!uid || uid.includes('/') || uid.includes('..')) return;
    // A refresh still in flight would write into the directory being removed.
    const podDir = this.podDir(uid);
    await Promise.all([...this.refreshing].filter(([dir]) => dir.startsWith(`${podDir}/`)).map(([, p]) => p));
    // Unmount tmpfs volumes first: rm must never descend into a mount.
    for (const mp of await mountsUnder(this.podDir(uid))) await run('umount', [mp]);
    await rm(this.podDir(uid), { recursive: true, force: true });
  }
}
