/**
 * The static pod sources (upstream pkg/kubelet/config/file.go, file_linux.go, http.go): the file
 * source reads `staticPodPath` (a file or a directory of manifests; names starting with '.' are
 * ignored, sub-directories are not entered) at start, on inotify events and every
 * `fileCheckFrequency`; the http source polls `staticPodURL` every `httpCheckFrequency`. Each
 * read delivers the complete set of the source's pods (upstream's undelta store), so a removed or
 * broken manifest removes its pod.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from '../api/types.js';
import { sleep } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { FILE_SOURCE, HTTP_SOURCE, type PodConfig } from './podConfig.js';
import { decodeStaticPods, StaticPodManifestError, staticPodPriorityWarning } from './staticPodManifest.js';

/** upstream maxConfigLength (10 MiB). */
const MAX_CONFIG_LENGTH = 10 * (1 << 20);

export interface StaticPodSourceOptions {
  nodeName: string;
  /** Called with the complete set of the source's pods after every read. */
  onSnapshot: (pods: Pod[]) => void;
  logger?: Logger;
}

const warned = new Set<string>();
function warnPriority(pod: Pod, log: Logger): void {
  const w = staticPodPriorityWarning(pod);
  if (w && !warned.has(w) && warned.size < 1000) {
    warned.add(w);
    log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, w);
  }
}

/** The file source: staticPodPath, inotify + a poll every `periodMs`. */
export class StaticPodFileSource {
  private readonly log: Logger;
  private readonly path: string;

  constructor(
    path: string,
    private readonly periodMs: number,
    private readonly o: StaticPodSourceOptions,
  ) {
    this.path = path.replace(/\/+$/, '') || '/';
    this.log = (o.logger ?? silentLogger).child({ component: 'static-pods', path: this.path });
  }

  /** Reads the path once and delivers its pods (upstream listConfig). */
  async list(): Promise<void> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(this.path);
    } catch (err) {
      this.o.onSnapshot([]);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.log.debug('path does not exist, ignoring');
        return;
      }
      throw err;
    }
    if (info.isDirectory()) {
      this.o.onSnapshot(await this.extractFromDir());
    } else if (info.isFile()) {
      const pods = await this.extractFromFile(this.path);
      // Upstream keeps the previous pods when the single file cannot be read.
      if (pods) this.o.onSnapshot(pods);
    } else {
      throw new Error('path is not a directory or file');
    }
  }

  private async extractFromDir(): Promise<Pod[]> {
    const names = (await readdir(this.path)).filter((n) => !n.startsWith('.')).sort();
    const pods: Pod[] = [];
    for (const name of names) {
      const file = join(this.path, name);
      let info: Awaited<ReturnType<typeof stat>>;
      try {
        info = await stat(file);
      } catch (err) {
        this.log.error({ file, err: (err as Error).message }, 'Could not get metadata');
        continue;
      }
      if (info.isDirectory()) {
        this.log.error({ file }, 'Provided manifest path is a directory, not recursing into manifest path');
      } else if (info.isFile()) {
        pods.push(...((await this.extractFromFile(file)) ?? []));
      } else {
        this.log.error({ file }, 'Manifest path is not a directory or file');
      }
    }
    return pods;
  }

  private async extractFromFile(file: string): Promise<Pod[] | undefined> {
    try {
      const data = await readFile(file);
      const text = data.subarray(0, MAX_CONFIG_LENGTH).toString('utf8');
      const pods = decodeStaticPods(text, { nodeName: this.o.nodeName, source: file, isFile: true });
      for (const p of pods) warnPriority(p, this.log);
      return pods;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        const msg = err instanceof StaticPodManifestError ? err.message : (err as Error).message;
        this.log.error({ file, err: msg }, 'Could not process manifest file');
      }
      return undefined;
    }
  }

  /** Lists now, then on every inotify event (coalesced) and every period until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let dirty = true;
    let wake: (() => void) | undefined;
    const poke = () => {
      dirty = true;
      wake?.();
    };
    let watcher: FSWatcher | undefined;
    const startWatch = () => {
      if (watcher) return;
      try {
        watcher = watch(this.path, { persistent: false }, poke);
        watcher.on('error', () => {
          watcher?.close();
          watcher = undefined;
        });
      } catch {
        // The path does not exist yet: the poll retries the watch.
      }
    };
    const timer = setInterval(poke, this.periodMs);
    try {
      while (!signal.aborted) {
        startWatch();
        if (dirty) {
          dirty = false;
          await this.list().catch((err) =>
            this.log.error({ err: (err as Error).message }, 'Unable to read config path'),
          );
        }
        if (dirty) continue;
        await new Promise<void>((resolve) => {
          const done = () => {
            signal.removeEventListener('abort', done);
            resolve();
          };
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
        wake = undefined;
        // Editors write a file in several steps: let a burst of events settle.
        await sleep(100, signal).catch(() => {});
      }
    } finally {
      clearInterval(timer);
      watcher?.close();
    }
  }
}

/** The http source: staticPodURL polled every `periodMs` (upstream http.go, 10 s client timeout). */
export class StaticPodURLSource {
  private readonly log: Logger;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string[]>,
    private readonly periodMs: number,
    private readonly o: StaticPodSourceOptions,
  ) {
    this.log = (o.logger ?? silentLogger).child({ component: 'static-pods', url });
  }

  async extract(signal?: AbortSignal): Promise<void> {
    const headers = new Headers();
    for (const [k, vs] of Object.entries(this.headers)) for (const v of vs) headers.append(k, v);
    const timeout = AbortSignal.timeout(10_000);
    const res = await fetch(this.url, {
      headers,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${this.url}: ${res.status} ${res.statusText}, body: ${text}`);
    if (text.trim() === '') {
      this.o.onSnapshot([]);
      return;
    }
    const pods = decodeStaticPods(text, { nodeName: this.o.nodeName, source: this.url, isFile: false }, true);
    for (const p of pods) warnPriority(p, this.log);
    this.o.onSnapshot(pods);
  }

  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.extract(signal);
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        // Upstream logs only every 10th consecutive failure after the first.
        if (failures++ % 10 === 0) {
          this.log.info({ err: (err as Error).message }, 'Unable to read config path');
        }
      }
      await sleep(this.periodMs, signal).catch(() => {});
    }
  }
}

/** The static pod sources a configuration asks for, feeding `target.podConfig` (wiring for main). */
export function staticPodSources(
  cfg: {
    nodeName: string;
    staticPodPath: string;
    fileCheckFrequencyMs: number;
    staticPodURL: string;
    staticPodURLHeader: Record<string, string[]>;
    httpCheckFrequencyMs: number;
  },
  target: { podConfig: PodConfig },
  logger?: Logger,
): { run(signal: AbortSignal): Promise<void> }[] {
  const out: { run(signal: AbortSignal): Promise<void> }[] = [];
  if (cfg.staticPodPath) {
    target.podConfig.addSource(FILE_SOURCE);
    out.push(
      new StaticPodFileSource(cfg.staticPodPath, cfg.fileCheckFrequencyMs, {
        nodeName: cfg.nodeName,
        onSnapshot: (pods) => target.podConfig.snapshot(pods, FILE_SOURCE),
        logger,
      }),
    );
  }
  if (cfg.staticPodURL) {
    target.podConfig.addSource(HTTP_SOURCE);
    out.push(
      new StaticPodURLSource(cfg.staticPodURL, cfg.staticPodURLHeader, cfg.httpCheckFrequencyMs, {
        nodeName: cfg.nodeName,
        onSnapshot: (pods) => target.podConfig.snapshot(pods, HTTP_SOURCE),
        logger,
      }),
    );
  }
  return out;
}
