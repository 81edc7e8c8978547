import { sleep } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { isGone } from './errors.js';
import type { RestClient } from './rest.js';
import type { ObjectList, Pod, WatchEvent } from './types.js';

export interface PodSourceHandler {
  /** A full list: the complete set of pods bound to this node right now. */
  onSnapshot(pods: Pod[]): void;
  onUpsert(pod: Pod): void;
  onDelete(pod: Pod): void;
}

export interface PodSourceOptions {
  rest: RestClient;
  nodeName: string;
  handler: PodSourceHandler;
  logger?: Logger;
  /** Server-side watch timeout range (s); a random value in it per watch, like reflectors. */
  minWatchTimeoutSeconds?: number;
  /** A watch with no event or bookmark for this long is declared dead and restarted. */
  idleTimeoutMs?: number;
  maxBackoffMs?: number;
}

/**
 * Lists and watches the Pods bound to this node (fieldSelector spec.nodeName), resuming from the
 * last resourceVersion, relisting on 410 Gone, reconnecting with jittered backoff, and
 * restarting watches that go silent (bookmarks keep a healthy watch talking).
 */
export class PodSource {
  private rv = '';
  private synced = false;
  private readonly log: Logger;

  constructor(private readonly o: PodSourceOptions) {
    this.log = o.logger ?? silentLogger;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  async run(signal: AbortSignal): Promise<void> {
    const path = '/api/v1/pods';
    const fieldSelector = `spec.nodeName=${this.o.nodeName}`;
    let backoff = 200;
    const maxBackoff = this.o.maxBackoffMs ?? 30_000;
    while (!signal.aborted) {
      try {
        if (!this.rv) {
          const list = await this.o.rest.get<ObjectList<Pod>>(path, {
            query: { fieldSelector, resourceVersion: '0' },
            signal,
            timeoutMs: 60_000,
          });
          this.rv = list.metadata.resourceVersion ?? '';
          for (const p of list.items) {
            p.apiVersion ??= 'v1';
            p.kind ??= 'Pod';
          }
          this.o.handler.onSnapshot(list.items);
          this.synced = true;
        }
        const min = this.o.minWatchTimeoutSeconds ?? 300;
        const timeoutSeconds = Math.floor(min + Math.random() * min);
        await this.o.rest.watch<Pod>(
          path,
          { fieldSelector, resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds },
          (ev) => this.onEvent(ev),
          { signal, idleTimeoutMs: this.o.idleTimeoutMs ?? (timeoutSeconds + 30) * 1000 },
        );
        backoff = 200;
      } catch (err) {
        if (signal.aborted) return;
        if (isGone(err)) {
          this.log.info('pod watch expired (410); relisting');
          this.rv = '';
          continue;
        }
        this.log.warn({ err: String(err), retryInMs: backoff }, 'pod list/watch failed; retrying');
        await sleep(backoff * (0.8 + Math.random() * 0.4), signal).catch(() => {});
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }

  private onEvent(ev: WatchEvent<Pod>): void {
    const rv = ev.object.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (ev.type === 'BOOKMARK') return;
    ev.object.apiVersion ??= 'v1';
    ev.object.kind ??= 'Pod';
    if (ev.type === 'DELETED') this.o.handler.onDelete(ev.object);
    else this.o.handler.onUpsert(ev.object);
  }
}
