/** Pure parsers for the host files facts.ts reads (/etc/os-release, /proc/net/route, sysfs names). */
import type { NetworkInterfaceInfo } from 'node:os';

const GOARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc: 'ppc',
  s390x: 's390x',
  s390: 's390',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** Node's process.arch → Go's GOARCH (what `kubernetes.io/arch` and nodeInfo.architecture use). */
export function goArch(nodeArch: string, endianness: 'BE' | 'LE'): string {
  // Node says 'ppc64' for both byte orders; Linux on POWER is little-endian nearly everywhere.
  if (nodeArch === 'ppc64') return endianness === 'LE' ? 'ppc64le' : 'ppc64';
  return GOARCH[nodeArch] ?? nodeArch;
}

/** PRETTY_NAME from an os-release file, unquoted; undefined when absent. */
export function osReleasePrettyName(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*PRETTY_NAME\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const raw = m[1] ?? '';
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    const value = quoted ? (quoted[2] ?? '').replace(/\\(["'$`\\])/g, '$1') : raw;
    return value === '' ? undefined : value;
  }
  return undefined;
}

const RTF_UP = 0x1;

/**
 * Interfaces carrying an IPv4 default route in /proc/net/route, lowest metric first. Columns:
 * Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex, host byte order).
 */
export function ipv4DefaultRouteInterfaces(procNetRoute: string): string[] {
  const routes: { iface: string; metric: number }[] = [];
  for (const line of procNetRoute.split('\n').slice(1)) {
    const [iface, destination, , flags, , , metric, mask] = line.trim().split(/\s+/);
    if (!iface || destination !== '00000000' || mask !== '00000000') continue;
    if ((Number.parseInt(flags ?? '0', 16) & RTF_UP) === 0) continue;
    routes.push({ iface, metric: Number.parseInt(metric ?? '0', 10) });
  }
  routes.sort((a, b) => a.metric - b.metric);
  return [...new Set(routes.map((r) => r.iface))];
}

const RTF_REJECT = 0x200;

/**
 * Interfaces carrying an IPv6 default route in /proc/net/ipv6_route, lowest metric first. Columns:
 * dest destLen src srcLen nexthop metric refcnt use flags iface (hex).
 */
export function ipv6DefaultRouteInterfaces(procNetIpv6Route: string): string[] {
  const routes: { iface: string; metric: number }[] = [];
  for (const line of procNetIpv6Route.split('\n')) {
    const [dest, destLen, , , , metric, , , flags, iface] = line.trim().split(/\s+/);
    if (!iface || iface === 'lo' || destLen !== '00' || !/^0{32}$/.test(dest ?? '')) continue;
    const f = Number.parseInt(flags ?? '0', 16);
    if ((f & RTF_UP) === 0 || (f & RTF_REJECT) !== 0) continue;
    routes.push({ iface, metric: Number.parseInt(metric ?? '0', 16) });
  }
  routes.sort((a, b) => a.metric - b.metric);
  return [...new Set(routes.map((r) => r.iface))];
}

function usable(info: NetworkInterfaceInfo): boolean {
  if (info.internal) return false;
  if (info.family === 'IPv4') return !info.address.startsWith('169.254.') && !info.address.startsWith('127.');
  const lower = info.address.toLowerCase();
  return !/^fe[89ab]/.test(lower) && lower !== '::1';
}

/**
 * Non-loopback, non-link-local addresses: those on the IPv4 default-route interface first (the
 * address upstream's ChooseHostInterface picks), then the IPv6 default-route interface, then every
 * other IPv4 address, then every other IPv6 address, each group in interface order.
 */
export function orderAddresses(
  interfaces: Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>,
  ipv4DefaultIfaces: readonly string[],
  ipv6DefaultIfaces: readonly string[],
): string[] {
  const all = Object.entries(interfaces).flatMap(([name, infos]) =>
    (infos ?? []).filter(usable).map((info) => ({ name, info })),
  );
  const rank = ({ name, info }: { name: string; info: NetworkInterfaceInfo }): number => {
    const v4 = info.family === 'IPv4';
    const defaults = v4 ? ipv4DefaultIfaces : ipv6DefaultIfaces;
    const i = defaults.indexOf(name);
    if (i !== -1) return (v4 ? 0 : 1000) + i;
    return v4 ? 2000 : 3000;
  };
  const sorted = all.map((entry, index) => ({ entry, index, rank: rank(entry) }));
  sorted.sort((a, b) => a.rank - b.rank || a.index - b.index);
  return [...new Set(sorted.map((s) => s.entry.info.address))];
}

/** 'hugepages-2048kB' (a /sys/kernel/mm/hugepages entry) → page size in bytes. */
export function hugepageSizeBytes(dirName: string): number | undefined {
  const m = /^hugepages-([0-9]+)kB$/.exec(dirName);
  return m ? Number(m[1]) * 1024 : undefined;
}
