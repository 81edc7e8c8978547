import { isNotFound } from './errors.js';
import type { RestClient } from './rest.js';
import type { ConfigMap, Secret } from './types.js';

const ns = (n: string) => encodeURIComponent(n);

/**
 * GETs of the objects pods refer to (a 404 is `undefined`; other errors throw), with a short
 * TTL cache and one shared request per object in flight. Every pod sync re-reads its volumes'
 * objects, so without this a burst of pods multiplies identical GETs (kube-root-ca.crt) and exhausts the client's rate limit. The TTL is far below the ~1 min in which
 * upstream propagates ConfigMap/Secret changes to volumes.
 */
export class ObjectLookups {
  private readonly cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    private readonly rest: RestClient,
    private readonly ttlMs = 2_000,
    private readonly maxEntries = 2_000,
  ) {}

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.cached(`cm/${namespace}/${name}`, this.ttlMs, () =>
      this.getOrUndefined<ConfigMap>(`/api/v1/namespaces/${ns(namespace)}/configmaps/${ns(name)}`),
    );
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.cached(`secret/${namespace}/${name}`, this.ttlMs, () =>
      this.getOrUndefined<Secret>(`/api/v1/namespaces/${ns(namespace)}/secrets/${ns(name)}`),
    );
  }

  private async getOrUndefined<T>(path: string): Promise<T | undefined> {
    try {
      return await this.rest.get<T>(path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private cached<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = load();
    this.cache.delete(key);
    this.cache.set(key, { at: now, value });
    // A failed load must not be served from the cache.
    value.catch(() => {
      if (this.cache.get(key)?.value === value) this.cache.delete(key);
    });
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }
}
