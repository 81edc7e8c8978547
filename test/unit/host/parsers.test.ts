import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  goArch,
  hugepageSizeBytes,
  ipv4DefaultRouteInterfaces,
  ipv6DefaultRouteInterfaces,
  orderAddresses,
  osReleasePrettyName,
} from '../../../src/host/parsers.js';

describe('goArch', () => {
  it.each([
    ['x64', 'LE', 'amd64'],
    ['arm64', 'LE', 'arm64'],
    ['arm', 'LE', 'arm'],
    ['ia32', 'LE', '386'],
    ['ppc64', 'LE', 'ppc64le'],
    ['ppc64', 'BE', 'ppc64'],
    ['s390x', 'BE', 's390x'],
    ['riscv64', 'LE', 'riscv64'],
    ['loong64', 'LE', 'loong64'],
    ['mipsel', 'LE', 'mipsle'],
  ] as const)('%s (%s) → %s', (arch, endian, expected) => {
    expect(goArch(arch, endian)).toBe(expected);
  });
});

describe('osReleasePrettyName', () => {
  it('reads quoted and unquoted PRETTY_NAME', () => {
    expect(
      osReleasePrettyName('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'),
    ).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(osReleasePrettyName("PRETTY_NAME='Alpine Linux v3.20'")).toBe('Alpine Linux v3.20');
    expect(osReleasePrettyName('PRETTY_NAME=Plain')).toBe('Plain');
    expect(osReleasePrettyName('PRETTY_NAME="Say \\"hi\\""')).toBe('Say "hi"');
  });

  it('returns undefined when absent or empty', () => {
    expect(osReleasePrettyName('NAME=x\n')).toBeUndefined();
    expect(osReleasePrettyName('PRETTY_NAME=""\n')).toBeUndefined();
  });
});

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0102A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
down0\t00000000\t01010101\t0002\t0\t0\t0\t00000000\t0\t0\t0
`;

const IPV6_ROUTE = `20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth1
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo
`;

describe('default routes', () => {
  it('finds IPv4 default-route interfaces by metric, ignoring down and non-default routes', () => {
    expect(ipv4DefaultRouteInterfaces(ROUTE)).toEqual(['eth0', 'eth1']);
    expect(ipv4DefaultRouteInterfaces('')).toEqual([]);
  });

  it('finds IPv6 default-route interfaces, ignoring lo and reject routes', () => {
    expect(ipv6DefaultRouteInterfaces(IPV6_ROUTE)).toEqual(['eth1']);
  });
});

function iface(address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  const base = { address, netmask: '', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 0 };
}

describe('orderAddresses', () => {
  it('puts the default-route address first and drops loopback and link-local', () => {
    const interfaces = {
      lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
      docker0: [iface('172.17.0.1', 'IPv4')],
      eth0: [iface('192.0.2.2', 'IPv4'), iface('fe80::1', 'IPv6'), iface('2001:db8::2', 'IPv6')],
      eth1: [iface('169.254.1.1', 'IPv4'), iface('198.51.100.7', 'IPv4'), iface('2001:db8:1::7', 'IPv6')],
    };
    expect(orderAddresses(interfaces, ['eth0'], ['eth1'])).toEqual([
      '192.0.2.2',
      '2001:db8:1::7',
      '172.17.0.1',
      '198.51.100.7',
      '2001:db8::2',
    ]);
  });

  it('falls back to interface order without a default route', () => {
    const interfaces = { a: [iface('10.0.0.1', 'IPv4')], b: [iface('10.0.0.2', 'IPv4')] };
    expect(orderAddresses(interfaces, [], [])).toEqual(['10.0.0.1', '10.0.0.2']);
  });
});

describe('hugepageSizeBytes', () => {
  it('parses sysfs directory names', () => {
    expect(hugepageSizeBytes('hugepages-2048kB')).toBe(2 * 1024 * 1024);
    expect(hugepageSizeBytes('hugepages-1048576kB')).toBe(1024 * 1024 * 1024);
    expect(hugepageSizeBytes('other')).toBeUndefined();
  });
});
