import type { ContainerStatus, Pod, PodStatus } from '../api/types.js';
import type { ContainerState } from './podutil.js';

/** Upstream kubecontainer.MaxPodTerminationMessageLogLength. */
export const MAX_POD_TERMINATION_MESSAGE_BYTES = 1024 * 12;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Cuts `s` to at most `maxBytes` UTF-8 bytes, as Go's `s[:n]` does (a split rune becomes U+FFFD). */
export function truncateBytes(s: string, maxBytes: number): string {
  const bytes = encoder.encode(s);
  if (bytes.length <= maxBytes) return s;
  return decoder.decode(bytes.subarray(0, maxBytes));
}

function truncateState(state: ContainerState | undefined, maxBytes: number): void {
  const t = state?.terminated;
  if (t?.message) t.message = truncateBytes(t.message, maxBytes);
}

const byName = (a: ContainerStatus, b: ContainerStatus) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Upstream normalizeStatus: terminated messages cut to 12288 / (number of containers) bytes,
 * container and ephemeral statuses sorted by name, init container statuses in spec order.
 * Timestamps are already whole-second RFC 3339 strings here. Mutates and returns `status`.
 */
export function normalizeStatus(pod: Pod, status: PodStatus): PodStatus {
  const spec = pod.spec;
  const count =
    (spec?.containers.length ?? 0) +
    (spec?.initContainers?.length ?? 0) +
    (spec?.ephemeralContainers?.length ?? 0);
  const maxBytes =
    count > 0 ? Math.floor(MAX_POD_TERMINATION_MESSAGE_BYTES / count) : MAX_POD_TERMINATION_MESSAGE_BYTES;
  const lists = [status.containerStatuses, status.initContainerStatuses, status.ephemeralContainerStatuses];
  for (const list of lists) {
    for (const s of list ?? []) {
      truncateState(s.state, maxBytes);
      truncateState(s.lastState, maxBytes);
    }
  }
  status.containerStatuses?.sort(byName);
  status.ephemeralContainerStatuses?.sort(byName);
  if (status.initContainerStatuses) {
    const order = new Map((spec?.initContainers ?? []).map((c, i) => [c.name, i]));
    const rank = (s: ContainerStatus) => order.get(s.name) ?? Number.MAX_SAFE_INTEGER;
    status.initContainerStatuses.sort((a, b) => rank(a) - rank(b));
  }
  return status;
}
