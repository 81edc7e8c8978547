import type { ConfigMap, Pod, Secret } from '../api/types.js';
import type { FileProjection } from './atomicWriter.js';

/** Reads the API objects volume sources refer to; undefined = not found. */
export interface VolumeLookup {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  token(
    pod: Pod,
    serviceAccount: string,
    audience: string | undefined,
    expirationSeconds: number,
    signal?: AbortSignal,
  ): Promise<string>;
}

export class ProjectionError extends Error {
  override readonly name = 'ProjectionError';
}

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** Go's %q for the downward API's map files: key="value" lines, sorted by key. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

export function fieldPathValue(pod: Pod, path: string): string {
  const md = pod.metadata;
  const sel = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (sel) return (sel[1] === 'labels' ? md?.labels : md?.annotations)?.[sel[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return md?.name ?? '';
    case 'metadata.namespace':
      return md?.namespace ?? '';
    case 'metadata.uid':
      return md?.uid ?? '';
    case 'metadata.labels':
      return formatMap(md?.labels);
    case 'metadata.annotations':
      return formatMap(md?.annotations);
    default:
      throw new ProjectionError(`unsupported fieldPath: ${path}`);
  }
}

function put(out: Map<string, FileProjection>, path: string, data: string | Buffer, mode: number): void {
  out.set(path, { data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data, mode });
}

/** configMap / secret data projected through `items` (or every key), as upstream MakePayload. */
function project(
  out: Map<string, FileProjection>,
  kind: 'configmap' | 'secret',
  ref: string,
  data: Map<string, Buffer>,
  items: KeyToPath[] | undefined,
  mode: number,
  optional: boolean,
): void {
  if (!items || items.length === 0) {
    for (const [k, v] of data) put(out, k, v, mode);
    return;
  }
  for (const it of items) {
    const v = data.get(it.key);
    if (v === undefined) {
      if (optional) continue;
      throw new ProjectionError(
        `${kind} references non-existent ${kind === 'configmap' ? 'config' : 'secret'} key: ${it.key}`,
      );
    }
    put(out, it.path, v, it.mode ?? mode);
  }
  void ref;
}

function configMapData(cm: ConfigMap): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

function secretData(s: Secret): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];

/** The files of a configMap, secret, downwardAPI or projected volume. */
export async function volumeFiles(
  pod: Pod,
  vol: Volume,
  lookup: VolumeLookup,
  signal?: AbortSignal,
): Promise<Map<string, FileProjection>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const out = new Map<string, FileProjection>();
  if (vol.configMap) {
    const name = vol.configMap.name ?? '';
    const mode = vol.configMap.defaultMode ?? 0o644;
    const cm = await lookup.configMap(ns, name);
    if (!cm) {
      if (vol.configMap.optional) return out;
      throw new ProjectionError(`configmap "${name}" not found`);
    }
    project(
      out,
      'configmap',
      name,
      configMapData(cm),
      vol.configMap.items,
      mode,
      vol.configMap.optional === true,
    );
    return out;
  }
  if (vol.secret) {
    const name = vol.secret.secretName ?? '';
    const mode = vol.secret.defaultMode ?? 0o644;
    const s = await lookup.secret(ns, name);
    if (!s) {
      if (vol.secret.optional) return out;
      throw new ProjectionError(`secret "${name}" not found`);
    }
    project(out, 'secret', name, secretData(s), vol.secret.items, mode, vol.secret.optional === true);
    return out;
  }
  if (vol.downwardAPI) {
    const mode = vol.downwardAPI.defaultMode ?? 0o644;
    for (const it of vol.downwardAPI.items ?? []) {
      if (!it.fieldRef) throw new ProjectionError(`downwardAPI item ${it.path}: only fieldRef is supported`);
      put(out, it.path, fieldPathValue(pod, it.fieldRef.fieldPath), it.mode ?? mode);
    }
    return out;
  }
  if (vol.projected) {
    const mode = vol.projected.defaultMode ?? 0o644;
    for (const src of vol.projected.sources ?? []) {
      if (src.serviceAccountToken) {
        const t = src.serviceAccountToken;
        const token = await lookup.token(
          pod,
          pod.spec?.serviceAccountName || 'default',
          t.audience || undefined,
          t.expirationSeconds ?? 3600,
          signal,
        );
        put(out, t.path, token, mode);
      } else if (src.configMap) {
        const name = src.configMap.name ?? '';
        const cm = await lookup.configMap(ns, name);
        if (!cm) {
          if (src.configMap.optional) continue;
          throw new ProjectionError(`configmap "${name}" not found`);
        }
        project(
          out,
          'configmap',
          name,
          configMapData(cm),
          src.configMap.items,
          mode,
          src.configMap.optional === true,
        );
      } else if (src.secret) {
        const name = src.secret.name ?? '';
        const s = await lookup.secret(ns, name);
        if (!s) {
          if (src.secret.optional) continue;
          throw new ProjectionError(`secret "${name}" not found`);
        }
        project(out, 'secret', name, secretData(s), src.secret.items, mode, src.secret.optional === true);
      } else if (src.downwardAPI) {
        for (const it of src.downwardAPI.items ?? []) {
          if (!it.fieldRef)
            throw new ProjectionError(`downwardAPI item ${it.path}: only fieldRef is supported`);
          put(out, it.path, fieldPathValue(pod, it.fieldRef.fieldPath), it.mode ?? mode);
        }
      } else {
        throw new ProjectionError('unsupported projected volume source');
      }
    }
    return out;
  }
  throw new ProjectionError('not a projected volume type');
}
