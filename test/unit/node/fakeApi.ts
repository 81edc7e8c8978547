import { ApiError } from '../../../src/api/errors.js';
import type { PatchType, RequestOptions } from '../../../src/api/rest.js';
import type { Lease, Node } from '../../../src/api/types.js';
import type { NodeApiClient } from '../../../src/node/client.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Enough of a strategic merge patch for node status: maps merge, conditions by type, `$patch: replace`. */
export function applyPatch(target: Obj, patch: Obj): Obj {
  const out: Obj = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/')) continue;
    if (v === null) {
      delete out[k];
    } else if (k === 'conditions' && Array.isArray(v)) {
      const list = [...((out[k] as Obj[] | undefined) ?? [])];
      for (const c of v as Obj[]) {
        const i = list.findIndex((x) => x.type === c.type);
        if (c.$patch === 'delete') {
          if (i >= 0) list.splice(i, 1);
        } else if (i >= 0) list[i] = { ...list[i], ...c };
        else list.push(c);
      }
      out[k] = list;
    } else if (Array.isArray(v)) {
      out[k] = v.filter((x) => !(isObj(x) && x.$patch === 'replace'));
    } else if (isObj(v)) {
      out[k] = applyPatch(isObj(out[k]) ? (out[k] as Obj) : {}, v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

export interface FakeCall {
  method: string;
  path: string;
  body?: unknown;
  query?: RequestOptions['query'];
}

/** An in-memory apiserver for Nodes and Leases with resourceVersions and uids. */
export class FakeApi implements NodeApiClient {
  readonly nodes = new Map<string, Node>();
  readonly leases = new Map<string, Lease>();
  readonly calls: FakeCall[] = [];
  /** Errors thrown by the next calls, in order. */
  readonly failNext: unknown[] = [];
  private rv = 100;

  private take(method: string, path: string, body?: unknown, query?: RequestOptions['query']): void {
    this.calls.push({ method, path, body, query });
    const err = this.failNext.shift();
    if (err) throw err;
  }

  private route(path: string): { kind: 'node' | 'lease'; name: string; sub?: string } {
    const node = /^\/api\/v1\/nodes(?:\/([^/]+))?(?:\/(status))?$/.exec(path);
    if (node) return { kind: 'node', name: node[1] ?? '', sub: node[2] };
    const lease =
      /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/kube-node-lease\/leases(?:\/([^/]+))?$/.exec(path);
    if (lease) return { kind: 'lease', name: lease[1] ?? '' };
    throw new Error(`fake: unexpected path ${path}`);
  }

  private store(kind: 'node' | 'lease'): Map<string, Node | Lease> {
    return kind === 'node' ? this.nodes : this.leases;
  }

  private notFound(name: string): ApiError {
    return new ApiError(404, 'NotFound', `"${name}" not found`);
  }

  async get<T>(path: string, o: RequestOptions = {}): Promise<T> {
    this.take('GET', path, undefined, o.query);
    const r = this.route(path);
    const obj = this.store(r.kind).get(r.name);
    if (!obj) throw this.notFound(r.name);
    return structuredClone(obj) as T;
  }

  async create<T>(path: string, body: unknown): Promise<T> {
    this.take('POST', path, body);
    const r = this.route(path);
    const obj = structuredClone(body) as Node;
    const name = obj.metadata?.name ?? '';
    const m = this.store(r.kind);
    if (m.has(name)) throw new ApiError(409, 'AlreadyExists', `"${name}" already exists`);
    obj.metadata = { ...obj.metadata, uid: `uid-${name}`, resourceVersion: String(++this.rv) };
    m.set(name, obj);
    return structuredClone(obj) as T;
  }

  async replace<T>(path: string, body: unknown): Promise<T> {
    this.take('PUT', path, body);
    const r = this.route(path);
    const m = this.store(r.kind);
    const cur = m.get(r.name);
    if (!cur) throw this.notFound(r.name);
    const obj = structuredClone(body) as Lease;
    if (obj.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
      throw new ApiError(409, 'Conflict', 'the object has been modified');
    }
    obj.metadata = { ...obj.metadata, resourceVersion: String(++this.rv) };
    m.set(r.name, obj);
    return structuredClone(obj) as T;
  }

  async patch<T>(path: string, body: unknown, _type: PatchType): Promise<T> {
    this.take('PATCH', path, body);
    const r = this.route(path);
    const m = this.store(r.kind);
    const cur = m.get(r.name);
    if (!cur) throw this.notFound(r.name);
    const next = applyPatch(cur as unknown as Obj, body as Obj) as unknown as Node;
    next.metadata = { ...next.metadata, resourceVersion: String(++this.rv) };
    m.set(r.name, next);
    return structuredClone(next) as T;
  }

  count(method: string, pathPart = ''): number {
    return this.calls.filter((c) => c.method === method && c.path.includes(pathPart)).length;
  }
}
