/**
 * Strategic-merge patches for nodes/<name>/status, shaped like upstream's PatchNodeStatus:
 * only what changed; conditions merge by type (with $setElementOrder so the order holds);
 * addresses, whose merge key is wrong upstream, are replaced with a `$patch: replace` element
 * when they changed. Pure.
 */
import type { Node, NodeCondition, NodeStatus } from '../api/types.js';
import { sameQuantity } from './resources.js';
import { isPlainObject, semanticEqual } from './semantic.js';
import {
  ANNOTATION_CMAD,
  isExtendedResourceName,
  isHugePageResourceName,
  LABEL_ARCH,
  LABEL_OS,
  RECONCILED_LABELS,
} from './setters.js';

export type StrategicPatch = Record<string, unknown>;

/** A two-way diff of plain objects: changed keys, null for removed ones; arrays are atomic. */
function diff(old: unknown, next: unknown): unknown {
  if (isPlainObject(old) && isPlainObject(next)) {
    const out: Record<string, unknown> = {};
    for (const k of new Set([...Object.keys(old), ...Object.keys(next)])) {
      const d = diff(old[k], next[k]);
      if (d !== undefined) out[k] = d;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (semanticEqual(old, next)) return undefined;
  return next ?? null;
}

/** Changed amounts only: the apiserver may spell an unchanged quantity differently. */
function resourceDiff(
  old: Record<string, string> = {},
  next: Record<string, string> = {},
): Record<string, string | null> | undefined {
  const out: Record<string, string | null> = {};
  for (const k of new Set([...Object.keys(old), ...Object.keys(next)])) {
    if (!sameQuantity(old[k], next[k])) out[k] = next[k] ?? null;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function conditionsPatch(
  old: NodeCondition[] = [],
  next: NodeCondition[] = [],
): { list: unknown[]; order: { type: string }[] } | undefined {
  const list: unknown[] = [];
  for (const c of next) {
    const o = old.find((x) => x.type === c.type);
    if (!o || !semanticEqual(o, c)) list.push(c);
  }
  for (const o of old) {
    if (!next.some((c) => c.type === o.type)) list.push({ type: o.type, $patch: 'delete' });
  }
  if (list.length === 0) return undefined;
  return { list, order: next.map((c) => ({ type: c.type })) };
}

/**
 * The patch taking `old` (as read from the apiserver) to `status`, plus `labels` to set; undefined
 * when there is nothing to send.
 */
export function nodeStatusPatch(
  old: Node,
  status: NodeStatus,
  labels: Record<string, string> = {},
): StrategicPatch | undefined {
  const o: NodeStatus = old.status ?? {};
  const s: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(o), ...Object.keys(status)]) as Set<keyof NodeStatus>) {
    if (key === 'conditions') {
      const c = conditionsPatch(o.conditions, status.conditions);
      if (c) {
        s['$setElementOrder/conditions'] = c.order;
        s.conditions = c.list;
      }
    } else if (key === 'addresses') {
      if (!semanticEqual(o.addresses, status.addresses)) {
        const next = status.addresses ?? [];
        s.addresses = (o.addresses ?? []).length > 0 ? [...next, { $patch: 'replace' }] : next;
      }
    } else if (key === 'capacity' || key === 'allocatable') {
      const d = resourceDiff(o[key], status[key]);
      if (d) s[key] = d;
    } else {
      const d = diff(o[key], status[key]);
      if (d !== undefined) s[key] = d;
    }
  }
  const patch: StrategicPatch = {};
  const l = diff(old.metadata?.labels ?? {}, { ...(old.metadata?.labels ?? {}), ...labels });
  if (l !== undefined) patch.metadata = { labels: l };
  if (Object.keys(s).length > 0) patch.status = s;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Labels the status loop re-adds when missing or wrong (upstream updateNode: os and arch). */
export function requiredLabels(node: Node, os: string, arch: string): Record<string, string> {
  const labels = node.metadata?.labels ?? {};
  const out: Record<string, string> = {};
  if (labels[LABEL_OS] !== os) out[LABEL_OS] = os;
  if (labels[LABEL_ARCH] !== arch) out[LABEL_ARCH] = arch;
  return out;
}

/**
 * What re-registration fixes on a Node that already exists (upstream tryRegisterWithAPIServer):
 * the default labels, the controller-managed-attach-detach annotation, extended resources
 * zeroed, hugepages as this machine has them. Undefined when nothing needs fixing.
 */
export function reconcileExistingNode(initial: Node, existing: Node): StrategicPatch | undefined {
  const patch: { metadata?: Record<string, unknown>; status?: Record<string, unknown> } = {};

  const labels: Record<string, string | null> = {};
  const want = initial.metadata?.labels ?? {};
  const have = existing.metadata?.labels ?? {};
  for (const key of RECONCILED_LABELS) {
    if (!(key in want)) continue;
    const v = want[key] ?? '';
    if (v === '') {
      if (key in have) labels[key] = null;
    } else if (have[key] !== v) labels[key] = v;
  }

  const annotations: Record<string, string | null> = {};
  const wantCmad = initial.metadata?.annotations?.[ANNOTATION_CMAD];
  const haveCmad = existing.metadata?.annotations?.[ANNOTATION_CMAD];
  if (wantCmad !== haveCmad) annotations[ANNOTATION_CMAD] = wantCmad ?? null;

  const meta: Record<string, unknown> = {};
  if (Object.keys(labels).length > 0) meta.labels = labels;
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  if (Object.keys(meta).length > 0) patch.metadata = meta;

  const capacity: Record<string, string | null> = {};
  const allocatable: Record<string, string | null> = {};
  const initCap = initial.status?.capacity ?? {};
  const initAlloc = initial.status?.allocatable ?? {};
  const cap = existing.status?.capacity;
  const alloc = existing.status?.allocatable;
  if (!cap) Object.assign(capacity, initCap);
  if (!alloc) Object.assign(allocatable, initAlloc);
  for (const k of Object.keys(cap ?? {})) {
    if (isExtendedResourceName(k)) {
      capacity[k] = '0';
      allocatable[k] = '0';
    } else if (isHugePageResourceName(k) && !(k in initCap)) {
      capacity[k] = null;
      allocatable[k] = null;
    }
  }
  for (const [k, v] of Object.entries(initCap)) {
    if (!isHugePageResourceName(k)) continue;
    if (cap && cap[k] !== v) capacity[k] = v;
    const a = initAlloc[k];
    if (alloc && a !== undefined && alloc[k] !== a) allocatable[k] = a;
  }
  const status: Record<string, unknown> = {};
  if (Object.keys(capacity).length > 0) status.capacity = capacity;
  if (Object.keys(allocatable).length > 0) status.allocatable = allocatable;
  if (Object.keys(status).length > 0) patch.status = status;

  return patch.metadata || patch.status ? patch : undefined;
}
