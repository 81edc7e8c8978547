/**
 * PURE: the node's InternalIP as upstream's nodestatus.NodeAddress picks it when --node-ip is
 * not given (pkg/kubelet/nodestatus/setters.go, v1.37.2):
 *   1. the node name itself when it is an IP address (--hostname-override=10.0.0.5);
 *   2. the addresses the node name resolves to (net.LookupIP: /etc/hosts, then DNS) that pass
 *      validateNodeIP (not loopback, link-local, multicast or unspecified, and present on a local
 *      interface), the first IPv4 one, else the first valid one;
 *   3. the default-route interface's address (ChooseHostInterface: IPv4 route first, then IPv6).
 * `--node-ip=::` reverses the family preference of steps 2 and 3 (kubelet-ts: the IPv6
 * default-route addresses are then tried first as well).
 */
import { isIP } from 'node:net';

export interface NodeIPInput {
  /** The node name (after --hostname-override). */
  nodeName: string;
  /** What the node name resolved to, in resolver order (empty when it does not resolve). */
  resolved: readonly string[];
  /** Every address configured on this host's interfaces. */
  interfaceAddresses: readonly string[];
  /** Default-route candidates, best first (host/parsers orderAddresses). */
  defaultRouteAddresses: readonly string[];
  /** True for --node-ip=:: (prefer IPv6). */
  preferIPv6?: boolean;
}

/** Go's net.IP.Equal for textual addresses (IPv4-mapped IPv6 equals its IPv4 form). */
function canonical(ip: string): string {
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return mapped[1] as string;
  if (isIP(lower) !== 6) return lower;
  // Expand and re-compress so that 'fec0:0:0::1' equals 'fec0::1'.
  const [head = '', tail = ''] = lower.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = lower.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => Number.parseInt(g, 16).toString(16)).join(':');
}

/** upstream validateNodeIP: the reason an address cannot be the node IP, or undefined. */
export function invalidNodeIPReason(ip: string, interfaceAddresses: readonly string[]): string | undefined {
  const family = isIP(ip);
  if (family === 0) return 'nodeIP must be a valid IP address';
  const c = canonical(ip);
  if (family === 4 || /^\d+\.\d+\.\d+\.\d+$/.test(c)) {
    const [a = 0, b = 0] = c.split('.').map(Number);
    if (a === 127) return "nodeIP can't be loopback address";
    if (a >= 224 && a <= 239) return "nodeIP can't be a multicast address";
    if (a === 169 && b === 254) return "nodeIP can't be a link-local unicast address";
    if (c === '0.0.0.0') return "nodeIP can't be an all zeros address";
  } else {
    if (c === '1' || c === '0:0:0:0:0:0:0:1') return "nodeIP can't be loopback address";
    if (c.startsWith('ff')) return "nodeIP can't be a multicast address";
    if (/^fe[89ab]/.test(c)) return "nodeIP can't be a link-local unicast address";
    if (c === '0:0:0:0:0:0:0:0') return "nodeIP can't be an all zeros address";
  }
  if (!interfaceAddresses.some((a) => canonical(a) === c))
    return `node IP: "${ip}" not found in the host's network interfaces`;
  return undefined;
}

const isV4 = (ip: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(canonical(ip));

/** The node's InternalIP without --node-ip, or undefined when nothing qualifies. */
export function selectNodeIP(input: NodeIPInput): string | undefined {
  const preferred = (ip: string) => (input.preferIPv6 ? !isV4(ip) : isV4(ip));
  if (isIP(input.nodeName) !== 0) return input.nodeName;
  let chosen: string | undefined;
  for (const addr of input.resolved) {
    if (invalidNodeIPReason(addr, input.interfaceAddresses) !== undefined) continue;
    if (preferred(addr)) return addr;
    chosen ??= addr;
  }
  if (chosen) return chosen;
  const routes = [...input.defaultRouteAddresses];
  if (input.preferIPv6) routes.sort((a, b) => Number(isV4(a)) - Number(isV4(b)));
  return routes[0];
}
