import type { Logger } from '../util/log.js';
import { Reflector } from './reflector.js';
import type { RestClient } from './rest.js';
import type { Pod } from './types.js';

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

/** Watch events carry no apiVersion/kind on their objects; the pod vocabulary expects them. */
function typed(p: Pod): Pod {
  p.apiVersion ??= 'v1';
  p.kind ??= 'Pod';
  return p;
}

/**
 * The Pods bound to this node (upstream's apiserver pod config source: a reflector on
 * fieldSelector spec.nodeName) — resumes from the last resourceVersion, relists on 410 Gone,
 * reconnects with jittered backoff, restarts watches that go silent.
 */
export class PodSource {
  private readonly reflector: Reflector<Pod>;

  constructor(o: PodSourceOptions) {
    const h = o.handler;
    this.reflector = new Reflector<Pod>({
      rest: o.rest,
      path: '/api/v1/pods',
      fieldSelector: `spec.nodeName=${o.nodeName}`,
      what: 'pod',
      store: {
        replace: (items) => h.onSnapshot(items.map(typed)),
        upsert: (p) => h.onUpsert(typed(p)),
        delete: (p) => h.onDelete(typed(p)),
      },
      ...(o.logger ? { logger: o.logger } : {}),
      ...(o.minWatchTimeoutSeconds !== undefined ? { minWatchTimeoutSeconds: o.minWatchTimeoutSeconds } : {}),
      ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
      ...(o.maxBackoffMs !== undefined ? { maxBackoffMs: o.maxBackoffMs } : {}),
    });
  }

  get hasSynced(): boolean {
    return this.reflector.hasSynced;
  }

  run(signal: AbortSignal): Promise<void> {
    return this.reflector.run(signal);
  }
}
