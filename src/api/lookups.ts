import { isNotFound } from './errors.js';
import type { RestClient } from './rest.js';
import type { ConfigMap, ObjectList, Secret, Service } from './types.js';

const ns = (n: string) => encodeURIComponent(n);

/** GETs of the objects pods refer to; a 404 is `undefined`, other errors throw. */
export class ObjectLookups {
  private services: { at: number; items: Service[] } | undefined;

  constructor(
    private readonly rest: RestClient,
    private readonly serviceTtlMs = 10_000,
  ) {}

  async configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    try {
      return await this.rest.get<ConfigMap>(`/api/v1/namespaces/${ns(namespace)}/configmaps/${ns(name)}`);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async secret(namespace: string, name: string): Promise<Secret | undefined> {
    try {
      return await this.rest.get<Secret>(`/api/v1/namespaces/${ns(namespace)}/secrets/${ns(name)}`);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Every Service (for service-link variables), cached briefly: nodes may list services. */
  async allServices(): Promise<Service[]> {
    const now = Date.now();
    if (this.services && now - this.services.at < this.serviceTtlMs) return this.services.items;
    const list = await this.rest.get<ObjectList<Service>>('/api/v1/services');
    for (const s of list.items) s.metadata ??= {};
    this.services = { at: now, items: list.items };
    return list.items;
  }
}
