import type { Pod, PodStatus } from '../api/types.js';
import type { PodRuntimeStatus } from '../cri/runtimeState.js';

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/** The IP family of an address, undefined when it is not one. */
export function ipFamily(ip: string): 4 | 6 | undefined {
  if (IPV4.test(ip)) return 4;
  if (ip.includes(':') && /^[0-9a-fA-F:.]+$/.test(ip)) return 6;
  return undefined;
}

/**
 * At most one IP per family, the node's primary family first (upstream sortPodIPs; IPv4 first
 * when the node has no IP).
 */
export function sortPodIPs(ips: readonly string[], nodeIPs: readonly string[]): string[] {
  const first = nodeIPs[0];
  const primary = first !== undefined && ipFamily(first) === 6 ? 6 : 4;
  const secondary = primary === 4 ? 6 : 4;
  const out: string[] = [];
  const p = ips.find((ip) => ipFamily(ip) === primary);
  if (p) out.push(p);
  const s = ips.find((ip) => ipFamily(ip) === secondary);
  if (s) out.push(s);
  return out;
}

/**
 * The pod's IPs: those of the newest sandbox when it is ready, else the last ones the runtime
 * cache knows, else the previously reported ones.
 */
export function podIPs(runtime: PodRuntimeStatus | undefined, previous: PodStatus | undefined): string[] {
  const newest = runtime?.sandboxes[0];
  if (newest?.ready && newest.ips.length > 0) return newest.ips;
  if (runtime && runtime.ips.length > 0) return runtime.ips;
  return (previous?.podIPs ?? []).map((p) => p.ip);
}

/**
 * hostIP/hostIPs from the node IPs (at most two); hostNetwork pods get them as pod IPs when they
 * have none, and the second family once the node becomes dual-stack.
 */
export function setHostIPs(
  pod: Pod,
  status: PodStatus,
  nodeIPs: readonly string[],
  previous: PodStatus | undefined,
) {
  const [first, second] = nodeIPs;
  if (first === undefined) {
    if (previous?.hostIP) status.hostIP = previous.hostIP;
    if (previous?.hostIPs) status.hostIPs = previous.hostIPs.map((h) => ({ ip: h.ip }));
  } else {
    status.hostIP = first;
    status.hostIPs = second === undefined ? [{ ip: first }] : [{ ip: first }, { ip: second }];
  }
  if (!pod.spec?.hostNetwork || !status.hostIP) return;
  if (!status.podIP) {
    status.podIP = status.hostIP;
    status.podIPs = [{ ip: status.hostIP }];
  }
  const podFirst = status.podIPs?.[0]?.ip;
  if (
    second !== undefined &&
    status.podIPs?.length === 1 &&
    podFirst &&
    ipFamily(podFirst) !== ipFamily(second)
  ) {
    status.podIPs.push({ ip: second });
  }
}
