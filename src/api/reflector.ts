import { sleep } from '../util/abort.js';
import { RetryDelay } from '../util/backoff.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import { isGone } from './errors.js';
import type { RestClient } from './rest.js';
import type { ObjectList, WatchEvent } from './types.js';

/** What a reflector feeds: a full list, then the watch's changes. */
export interface ReflectorStore<T> {
  /** Replaces everything (the first list, and every relist after 410 Gone). */
  replace(items: T[]): void;
  upsert(item: T): void;
  delete(item: T): void;
}

export interface ReflectorOptions<T> {
  rest: RestClient;
  /** Collection path, e.g. /api/v1/services. */
  path: string;
  fieldSelector?: string;
  store: ReflectorStore<T>;
  /** For log lines: "services". */
  what: string;
  logger?: Logger;
  /** Server-side watch timeout range (s): a random value in [min, 2·min) per watch. */
  minWatchTimeoutSeconds?: number;
  /** A watch with no event or bookmark for this long is declared dead and restarted (default: its timeout + 30 s). */
  idleTimeoutMs?: number;
  maxBackoffMs?: number;
}

/**
 * List and watch of one collection (client-go's Reflector, trimmed): lists once, then watches
 * from the list's resourceVersion with bookmarks, resuming after clean ends, relisting on 410
 * Gone, reconnecting with jittered exponential backoff, and restarting a watch that goes silent.
 */
export class Reflector<T extends { metadata?: { resourceVersion?: string } }> {
  private rv = '';
  private synced = false;
  private readonly log: Logger;

  constructor(private readonly o: ReflectorOptions<T>) {
    this.log = o.logger ?? silentLogger;
  }

  /** True once the first list was delivered (client-go HasSynced). */
  get hasSynced(): boolean {
    return this.synced;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { rest, path } = this.o;
    const selector = this.o.fieldSelector ? { fieldSelector: this.o.fieldSelector } : {};
    const retry = new RetryDelay(200, this.o.maxBackoffMs ?? 30_000, 0.2);
    while (!signal.aborted) {
      try {
        if (!this.rv) {
          const list = await rest.get<ObjectList<T>>(path, {
            query: { ...selector, resourceVersion: '0' },
            signal,
            timeoutMs: 60_000,
          });
          this.rv = list.metadata.resourceVersion ?? '';
          this.o.store.replace(list.items);
          this.synced = true;
        }
        const min = this.o.minWatchTimeoutSeconds ?? 300;
        const timeoutSeconds = Math.floor(min + Math.random() * min);
        await rest.watch<T>(
          path,
          { ...selector, resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds },
          (ev) => this.onEvent(ev),
          { signal, idleTimeoutMs: this.o.idleTimeoutMs ?? (timeoutSeconds + 30) * 1000 },
        );
        retry.reset();
      } catch (err) {
        if (signal.aborted) return;
        if (isGone(err)) {
          this.log.info(`${this.o.what} watch expired (410); relisting`);
          this.rv = '';
          continue;
        }
        const delay = retry.next();
        this.log.warn(
          { err: errorMessage(err), retryInMs: Math.round(delay) },
          `${this.o.what} list/watch failed; retrying`,
        );
        await sleep(delay, signal).catch(() => {});
      }
    }
  }

  private onEvent(ev: WatchEvent<T>): void {
    const rv = ev.object.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (ev.type === 'BOOKMARK') return;
    if (ev.type === 'DELETED') this.o.store.delete(ev.object);
    else this.o.store.upsert(ev.object);
  }
}
