import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import {
  admitSysctls,
  newSysctlAllowlist,
  normalizeSysctlName,
  SysctlAllowlistError,
  safeSysctlAllowlist,
} from '../../../src/sync/sysctl.js';

// Cases from upstream pkg/kubelet/sysctl/{allowlist_test.go,safe_sysctls_test.go} and
// component-helpers node/util/sysctl; the e2e spec "Sysctls should not launch unsafe, but not
// explicitly enabled sysctls on the node" (kernel.msgmax → SysctlForbidden).

const NO_KERNEL_LIMIT = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];

describe('safeSysctlAllowlist', () => {
  it('by kernel version', () => {
    expect(safeSysctlAllowlist('')).toEqual(NO_KERNEL_LIMIT);
    expect(safeSysctlAllowlist('3.18.0-957.27.2.el7.x86_64')).toEqual([
      ...NO_KERNEL_LIMIT,
      'net.ipv4.ip_local_reserved_ports',
    ]);
    expect(safeSysctlAllowlist('5.15.0-75-generic')).toEqual([
      ...NO_KERNEL_LIMIT,
      'net.ipv4.ip_local_reserved_ports',
      'net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
      'net.ipv4.tcp_rmem',
      'net.ipv4.tcp_wmem',
      'net.ipv4.tcp_slow_start_after_idle',
      'net.ipv4.tcp_notsent_lowat',
    ]);
  });
});

describe('newSysctlAllowlist', () => {
  const safe = safeSysctlAllowlist('5.15.0');
  it('accepts names and patterns, with dots or slashes', () => {
    expect(() => newSysctlAllowlist([...safe, 'kernel.msg*', 'kernel.sem'])).not.toThrow();
    expect(() => newSysctlAllowlist([...safe, 'kernel/msg*', 'kernel/sem'])).not.toThrow();
  });
  it('rejects invalid patterns and sysctls not known to be namespaced', () => {
    for (const bad of [' kernel.msg*', 'kernel.msg* ', 'net.-', 'net.*.foo', 'net.*/foo', 'foo', 'foo*']) {
      expect(() => newSysctlAllowlist([...safe, bad]), bad).toThrow(SysctlAllowlistError);
    }
    expect(() => newSysctlAllowlist(['foo'])).toThrow('the sysctls "foo" are not known to be namespaced');
  });
});

describe('normalizeSysctlName', () => {
  it('swaps . and / when the first separator is /', () => {
    expect(normalizeSysctlName('kernel/shm_rmid_forced')).toBe('kernel.shm_rmid_forced');
    expect(normalizeSysctlName('net/ipv4/conf/eno2.100/rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
    expect(normalizeSysctlName('net.ipv4.conf.eno2/100.rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
  });
});

describe('admitSysctls', () => {
  const w = newSysctlAllowlist([
    ...safeSysctlAllowlist('5.15.0'),
    'kernel.msg*',
    'kernel.sem',
    'net.b.*',
    'user.*',
  ]);
  const pod = (name: string, host: { net?: boolean; ipc?: boolean; users: boolean }): Pod => ({
    metadata: { name: 'p' },
    spec: {
      containers: [],
      hostNetwork: host.net ?? false,
      hostIPC: host.ipc ?? false,
      hostUsers: host.users,
      securityContext: { sysctls: [{ name, value: '1' }] },
    },
  });

  it('admits allowlisted sysctls', () => {
    for (const name of [
      'kernel.shm_rmid_forced',
      'kernel/shm_rmid_forced',
      'net.ipv4.ip_local_port_range',
      'kernel.msgmax',
      'kernel.sem',
      'kernel/sem',
      'user.max_user_namespaces',
    ]) {
      expect(admitSysctls(pod(name, { users: false }), w), name).toEqual({ admit: true });
    }
  });

  it('rejects the rest with SysctlForbidden', () => {
    const cases: [string, { net?: boolean; ipc?: boolean; users: boolean }][] = [
      ['kernel.shm_rmid_forced', { ipc: true, users: false }],
      ['net.ipv4.ip_local_port_range', { net: true, users: false }],
      ['user.max_user_namespaces', { users: true }],
      ['foo', { users: false }],
      ['net.a.b.c', { users: false }],
      ['net.ipv4.ip_local_port_range.a.b.c', { users: false }],
      ['kernel.msgmax', { ipc: true, users: false }],
      ['kernel.sem', { ipc: true, users: false }],
      ['net.b.c', { net: true, users: false }],
    ];
    for (const [name, host] of cases) {
      expect(admitSysctls(pod(name, host), w), name).toMatchObject({
        admit: false,
        reason: 'SysctlForbidden',
      });
    }
    expect(admitSysctls(pod('kernel.sem', { ipc: true, users: false }), w)).toEqual({
      admit: false,
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "kernel.sem" not allowed with host IPC enabled',
    });
    expect(admitSysctls(pod('foo', { users: false }), w)).toMatchObject({
      message: 'forbidden sysctl: "foo" not allowlisted',
    });
  });

  it('the safe set alone rejects kernel.msgmax (the e2e spec)', () => {
    const safeOnly = newSysctlAllowlist(safeSysctlAllowlist('6.1.0-18-amd64'));
    const p: Pod = {
      spec: {
        containers: [],
        securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '10000000000' }] },
      },
    };
    expect(admitSysctls(p, safeOnly)).toEqual({
      admit: false,
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "kernel.msgmax" not allowlisted',
    });
    expect(admitSysctls({ spec: { containers: [] } }, safeOnly)).toEqual({ admit: true });
  });
});
