import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { CriClient } from '../cri/client.js';
import { sleep } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';

export interface LogRotationOptions {
  cri: CriClient;
  /** containerLogMaxSize (default 10 MiB). */
  maxSizeBytes: number;
  /** containerLogMaxFiles (default 5), the current file included. */
  maxFiles: number;
  /** containerLogMonitorInterval (default 10 s). */
  intervalMs?: number;
  logger?: Logger;
  now?: () => Date;
}

/** `20261125-140305` (UTC), the suffix upstream gives rotated files. */
function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/**
 * Container log rotation (upstream pkg/kubelet/logs): every interval, a running container's log
 * larger than maxSize is renamed to `<file>.<timestamp>` and the runtime is told to reopen it
 * (CRI ReopenContainerLog; on failure the rename is undone). Rotated files other than the newest
 * are gzip-compressed, and only maxFiles files are kept, oldest removed first.
 */
export class LogRotator {
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly o: LogRotationOptions) {
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? (() => new Date());
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.rotateAll(signal).catch((err) =>
        this.log.warn({ err: String(err) }, 'container log rotation failed'),
      );
      await sleep(this.o.intervalMs ?? 10_000, signal).catch(() => {});
    }
  }

  async rotateAll(signal?: AbortSignal): Promise<void> {
    const running = await this.o.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } }, { signal });
    for (const c of running) {
      if (signal?.aborted) return;
      const st = await this.o.cri.containerStatus(c.id, false, { signal }).catch(() => undefined);
      const path = st?.status?.logPath;
      if (!path) continue;
      await this.rotateOne(c.id, path).catch((err) =>
        this.log.warn({ id: c.id, path, err: String(err) }, 'rotating a container log failed'),
      );
    }
  }

  async rotateOne(containerId: string, path: string): Promise<void> {
    await this.cleanup(path);
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size < this.o.maxSizeBytes) return;
    const rotated = `${path}.${timestamp(this.now())}`;
    await rename(path, rotated);
    try {
      await this.o.cri.reopenContainerLog(containerId);
    } catch (err) {
      await rename(rotated, path).catch(() => {});
      throw err;
    }
    await this.cleanup(path);
  }

  /** Compresses all rotated files but the newest and keeps at most maxFiles files in all. */
  private async cleanup(path: string): Promise<void> {
    const dir = dirname(path);
    const base = basename(path);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names)
      if (n.startsWith(`${base}.`) && n.endsWith('.tmp')) await rm(join(dir, n), { force: true });
    const rotated = names
      .filter((n) => n.startsWith(`${base}.`) && !n.endsWith('.tmp'))
      .sort((a, b) => a.replace(/\.gz$/, '').localeCompare(b.replace(/\.gz$/, '')));
    // The current file counts towards maxFiles.
    while (rotated.length > Math.max(0, this.o.maxFiles - 1)) {
      await rm(join(dir, rotated.shift()!), { force: true });
    }
    for (const n of rotated.slice(0, -1)) {
      if (n.endsWith('.gz')) continue;
      const src = join(dir, n);
      const tmp = `${src}.gz.tmp`;
      await pipeline(createReadStream(src), createGzip(), createWriteStream(tmp));
      await rename(tmp, `${src}.gz`);
      await rm(src, { force: true });
    }
  }
}
