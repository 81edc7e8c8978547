import { type NodeAllocatable, ResourceFieldError, resourceValueByContainerName } from '../api/resources.js';
import type { ConfigMap, Pod, Secret } from '../api/types.js';
import { errorMessage } from '../util/errors.js';
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

/** Go's strconv.Quote (what upstream FormatMap writes): printable runes as-is, others escaped. */
export function goQuote(v: string): string {
  let out = '"';
  for (const ch of v) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp < 0x80 && cp >= 0x20 && cp !== 0x7f) out += ch;
    else if (cp >= 0x80 && /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) out += ch;
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) {
      out += '\ufffd'; // a lone surrogate: Go's JSON decoder turned it into U+FFFD (printable)
    } else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Upstream fieldpath.FormatMap: key="value" lines (Go %q), sorted by key. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m![k]!)}`)
    .join('\n');
}

/** Upstream utilerrors.NewAggregate(...).Error(): one message as is, several as "[a, b]". */
function aggregate(errors: string[]): ProjectionError | undefined {
  const unique = [...new Set(errors)];
  if (unique.length === 0) return undefined;
  return new ProjectionError(unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`);
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
        kind === 'configmap'
          ? `configmap references non-existent config key: ${it.key}`
          : `references non-existent secret key: ${it.key}`,
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

export interface ProjectionOptions {
  /** Node allocatable: the default of a resourceFieldRef limit the container does not set. */
  allocatable?: NodeAllocatable;
  signal?: AbortSignal;
}

const NO_ALLOCATABLE: NodeAllocatable = { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 };

/**
 * PURE. Upstream FsUserFrom: the runAsUser every container (init, regular, ephemeral) runs as,
 * or undefined when one of them does not set it or two differ.
 */
export function fsUserFrom(pod: Pod): number | undefined {
  const podUser = pod.spec?.securityContext?.runAsUser;
  let user: number | undefined;
  const all = [
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.ephemeralContainers ?? []),
  ];
  for (const c of all) {
    const u = c.securityContext?.runAsUser ?? podUser;
    if (u === undefined || u === null || (user !== undefined && user !== u)) return undefined;
    user = u;
  }
  return user;
}

/** The files of a configMap, secret, downwardAPI or projected volume. */
export async function volumeFiles(
  pod: Pod,
  vol: Volume,
  lookup: VolumeLookup,
  opts: ProjectionOptions = {},
): Promise<Map<string, FileProjection>> {
  const { signal } = opts;
  const allocatable = opts.allocatable ?? NO_ALLOCATABLE;
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
    const errors = downwardApiFiles(out, pod, vol.downwardAPI.items ?? [], mode, allocatable);
    const err = aggregate(errors);
    if (err) throw err;
    return out;
  }
  if (vol.projected) {
    // Like upstream collectData: every source is tried, the errors are reported together.
    const mode = vol.projected.defaultMode ?? 0o644;
    const errors: string[] = [];
    for (const src of vol.projected.sources ?? []) {
      try {
        if (src.serviceAccountToken) {
          const t = src.serviceAccountToken;
          const token = await lookup.token(
            pod,
            pod.spec?.serviceAccountName || 'default',
            t.audience || undefined,
            t.expirationSeconds ?? 3600,
            signal,
          );
          // Upstream: with an fsUser or an fsGroup the token is 0600, owned by the fsUser; the
          // fsGroup ownership change then makes it 0640.
          const fsUser = fsUserFrom(pod);
          const fsGroup = pod.spec?.securityContext?.fsGroup;
          const restricted = fsUser !== undefined || (fsGroup !== undefined && fsGroup !== null);
          put(out, t.path, token, restricted ? 0o600 : mode);
          if (fsUser !== undefined) out.get(t.path)!.fsUser = fsUser;
        } else if (src.configMap) {
          const name = src.configMap.name ?? '';
          const cm = await lookup.configMap(ns, name);
          if (!cm && !src.configMap.optional) throw new ProjectionError(`configmap "${name}" not found`);
          const data = cm ? configMapData(cm) : new Map<string, Buffer>();
          project(out, 'configmap', name, data, src.configMap.items, mode, src.configMap.optional === true);
        } else if (src.secret) {
          const name = src.secret.name ?? '';
          const s = await lookup.secret(ns, name);
          if (!s && !src.secret.optional) throw new ProjectionError(`secret "${name}" not found`);
          const data = s ? secretData(s) : new Map<string, Buffer>();
          project(out, 'secret', name, data, src.secret.items, mode, src.secret.optional === true);
        } else if (src.downwardAPI) {
          errors.push(...downwardApiFiles(out, pod, src.downwardAPI.items ?? [], mode, allocatable));
        } else {
          throw new ProjectionError('unsupported projected volume source');
        }
      } catch (err) {
        if (signal?.aborted) throw err;
        errors.push(errorMessage(err));
      }
    }
    const err = aggregate(errors);
    if (err) throw err;
    return out;
  }
  throw new ProjectionError('not a projected volume type');
}

type DownwardApiItem = NonNullable<NonNullable<Volume['downwardAPI']>['items']>[number];

/** Upstream downwardapi.CollectData: the files of the items that resolve, the errors of the others. */
function downwardApiFiles(
  out: Map<string, FileProjection>,
  pod: Pod,
  items: DownwardApiItem[],
  mode: number,
  allocatable: NodeAllocatable,
): string[] {
  const errors: string[] = [];
  for (const it of items) {
    // Like upstream, an item that fails is still written (empty) and its error reported.
    let data = '';
    try {
      if (it.fieldRef) data = fieldPathValue(pod, it.fieldRef.fieldPath);
      else if (it.resourceFieldRef)
        data = resourceValueByContainerName(pod, it.resourceFieldRef, allocatable);
    } catch (err) {
      if (!(err instanceof ProjectionError || err instanceof ResourceFieldError)) throw err;
      errors.push(err.message);
    }
    put(out, it.path, data, it.mode ?? mode);
  }
  return errors;
}
