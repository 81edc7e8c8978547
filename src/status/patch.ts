import type { PodStatus } from '../api/types.js';
import { isKubeletCondition, isSharedCondition } from './conditions.js';
import { findCondition } from './podutil.js';

/** A JSON value as the diff sees it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The form Go's encoder gives both sides of upstream's diff: no null or undefined values, no empty
 * strings and no empty lists (every such PodStatus field is `omitempty`, or a zero time that
 * marshals to null). Empty objects stay: `lastState: {}` is always present.
 */
export function canonical(v: unknown): Json | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (Array.isArray(v)) {
    const out = v.map(canonical).filter((x): x is Json => x !== undefined);
    return out.length > 0 ? out : undefined;
  }
  if (typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      const c = canonical(x);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return undefined;
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Patch strategy of a field: lists merged by key; everything else is replaced. */
interface FieldSchema {
  mergeKey?: string;
  fields?: Schema;
}
type Schema = Record<string, FieldSchema>;

/** The patch metadata of v1.Pod that the status diff touches (patchStrategy=merge fields). */
export const POD_SCHEMA: Schema = {
  metadata: { fields: {} },
  status: {
    fields: {
      conditions: { mergeKey: 'type' },
      podIPs: { mergeKey: 'ip' },
      hostIPs: { mergeKey: 'ip' },
      resourceClaimStatuses: { mergeKey: 'name' },
    },
  },
};

const keyString = (v: Json | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

function mergeKeyOf(item: Json, key: string): Json | undefined {
  return isObject(item) ? item[key] : undefined;
}

/** Upstream diffListsOfMaps + the $setElementOrder rule of diffLists. */
function diffMergeList(
  original: Json[],
  modified: Json[],
  key: string,
  fields: Schema,
): {
  patch: Json[];
  order?: Json[];
} {
  if (original.length === 0) return { patch: modified };
  const byKey = (list: Json[]) => new Map(list.map((x) => [keyString(mergeKeyOf(x, key)), x]));
  const orig = byKey(original);
  const mod = byKey(modified);
  const changes: Json[] = [];
  for (const item of modified) {
    const k = keyString(mergeKeyOf(item, key));
    const before = orig.get(k);
    if (before === undefined) {
      changes.push(item);
    } else if (isObject(before) && isObject(item)) {
      const d = diffMaps(before, item, fields);
      if (Object.keys(d).length > 0) {
        d[key] = mergeKeyOf(item, key) ?? null;
        changes.push(d);
      }
    }
  }
  const deletions = [...orig.keys()]
    .filter((k) => !mod.has(k))
    .sort()
    .map((k) => {
      const item = orig.get(k);
      return {
        $patch: 'delete',
        [key]: item === undefined ? null : (mergeKeyOf(item, key) ?? null),
      } as JsonObject;
    });
  const patch = [...changes, ...deletions];
  const orderSame =
    original.length === modified.length &&
    modified.every(
      (m, i) => keyString(mergeKeyOf(m, key)) === keyString(mergeKeyOf(original[i] ?? null, key)),
    );
  if (patch.length === 0 && orderSame) return { patch };
  const order = modified.map((m) => ({ [key]: mergeKeyOf(m, key) ?? null }) as JsonObject);
  return { patch, order };
}

/**
 * A two-way strategic merge patch from `original` to `modified` (upstream
 * strategicpatch.CreateTwoWayMergePatch): changed and added fields, `null` for removed ones,
 * merge lists as per-element patches with `$patch: delete` entries and a `$setElementOrder/<field>`
 * list, other lists replaced whole.
 */
export function diffMaps(original: JsonObject, modified: JsonObject, schema: Schema = {}): JsonObject {
  const patch: JsonObject = {};
  for (const [k, m] of Object.entries(modified)) {
    const o = original[k];
    if (o === undefined) {
      patch[k] = m;
      continue;
    }
    const field = schema[k];
    if (isObject(o) && isObject(m)) {
      const d = diffMaps(o, m, field?.fields ?? {});
      if (Object.keys(d).length > 0) patch[k] = d;
    } else if (Array.isArray(o) && Array.isArray(m) && field?.mergeKey) {
      const { patch: list, order } = diffMergeList(o, m, field.mergeKey, field.fields ?? {});
      if (list.length > 0) patch[k] = list;
      if (order) patch[`$setElementOrder/${k}`] = order;
    } else if (!deepEqual(o, m)) {
      patch[k] = m;
    }
  }
  for (const k of Object.keys(original)) {
    if (!(k in modified)) patch[k] = null;
  }
  return sortKeys(patch) as JsonObject;
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k] ?? null);
  return out;
}

export interface StatusPatch {
  patch: JsonObject;
  /** The patch carries nothing but the uid precondition: no request is needed. */
  unchanged: boolean;
}

/**
 * The strategic merge patch the kubelet sends to pods/status (upstream
 * preparePatchBytesForPodStatus): a diff of `{status: old}` against
 * `{metadata: {uid}, status: new}`, so the uid travels as a precondition.
 */
export function podStatusPatch(uid: string, oldStatus: PodStatus, newStatus: PodStatus): StatusPatch {
  const original: JsonObject = { status: asObject(canonical(oldStatus)) };
  const modified: JsonObject = { metadata: { uid }, status: asObject(canonical(newStatus)) };
  const patch = diffMaps(original, modified, POD_SCHEMA);
  const unchanged = Object.keys(patch).length === 1 && patch.metadata !== undefined;
  return { patch, unchanged };
}

const asObject = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});

/**
 * Whether two statuses carry the same kubelet content (upstream isPodStatusByKubeletEqual):
 * kubelet-owned and shared conditions compare by status, reason and message only; everything
 * else must be equal as JSON.
 */
export function isStatusByKubeletEqual(oldStatus: PodStatus, status: PodStatus): boolean {
  for (const c of status.conditions ?? []) {
    if (!isKubeletCondition(c.type) && !isSharedCondition(c.type)) continue;
    const o = findCondition(oldStatus.conditions, c.type);
    if (
      !o ||
      o.status !== c.status ||
      (o.message ?? '') !== (c.message ?? '') ||
      (o.reason ?? '') !== (c.reason ?? '')
    ) {
      return false;
    }
  }
  return deepEqual(canonical({ ...oldStatus, conditions: status.conditions }), canonical(status));
}
