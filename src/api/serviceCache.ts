import type { Logger } from '../util/log.js';
import { Reflector, type ReflectorStore } from './reflector.js';
import type { RestClient } from './rest.js';
import type { Service } from './types.js';

/** The namespace of the master services (metav1.NamespaceDefault). */
const MASTER_NAMESPACE = 'default';
/** Upstream masterServices: the services every pod gets variables for. */
const MASTER_SERVICES: ReadonlySet<string> = new Set(['kubernetes']);

/**
 * Only what service-link variables need (upstream envvars.FromServices): name, namespace,
 * ClusterIP and ports. Keeping no more bounds the memory of a cluster's worth of Services.
 */
function slim(s: Service): Service {
  return {
    metadata: { name: s.metadata?.name ?? '', namespace: s.metadata?.namespace ?? '' },
    spec: {
      clusterIP: s.spec?.clusterIP ?? '',
      ports: (s.spec?.ports ?? []).map((p) => ({
        port: p.port,
        ...(p.name ? { name: p.name } : {}),
        ...(p.protocol ? { protocol: p.protocol } : {}),
      })),
    },
  };
}

/**
 * The kubelet's Service informer (upstream NewMainKubelet's serviceLister): every Service with a
 * ClusterIP, cluster-wide (fieldSelector spec.clusterIP!=None, as upstream: headless Services
 * never make variables), kept by namespace from one list+watch.
 */
export class ServiceCache implements ReflectorStore<Service> {
  private readonly byNamespace = new Map<string, Map<string, Service>>();
  private readonly reflector: Reflector<Service>;

  constructor(o: { rest: RestClient; logger?: Logger; minWatchTimeoutSeconds?: number }) {
    this.reflector = new Reflector<Service>({
      rest: o.rest,
      path: '/api/v1/services',
      fieldSelector: 'spec.clusterIP!=None',
      store: this,
      what: 'services',
      ...(o.logger ? { logger: o.logger } : {}),
      ...(o.minWatchTimeoutSeconds ? { minWatchTimeoutSeconds: o.minWatchTimeoutSeconds } : {}),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.reflector.run(signal);
  }

  /** Services have been listed at least once (upstream serviceHasSynced). */
  get hasSynced(): boolean {
    return this.reflector.hasSynced;
  }

  /**
   * The Services a pod of `namespace` may get variables for: those of its namespace and the
   * master services of `default`; undefined until the first list arrived.
   */
  forNamespace(namespace: string): Service[] | undefined {
    if (!this.hasSynced) return undefined;
    const out = [...(this.byNamespace.get(namespace)?.values() ?? [])];
    if (namespace !== MASTER_NAMESPACE) {
      const master = this.byNamespace.get(MASTER_NAMESPACE);
      for (const name of MASTER_SERVICES) {
        const s = master?.get(name);
        if (s) out.push(s);
      }
    }
    return out;
  }

  get size(): number {
    let n = 0;
    for (const m of this.byNamespace.values()) n += m.size;
    return n;
  }

  replace(items: Service[]): void {
    this.byNamespace.clear();
    for (const s of items) this.upsert(s);
  }

  upsert(s: Service): void {
    const ns = s.metadata?.namespace ?? '';
    const name = s.metadata?.name ?? '';
    if (!name) return;
    let m = this.byNamespace.get(ns);
    if (!m) {
      m = new Map();
      this.byNamespace.set(ns, m);
    }
    m.set(name, slim(s));
  }

  delete(s: Service): void {
    const ns = s.metadata?.namespace ?? '';
    const m = this.byNamespace.get(ns);
    if (!m) return;
    m.delete(s.metadata?.name ?? '');
    if (m.size === 0) this.byNamespace.delete(ns);
  }
}
