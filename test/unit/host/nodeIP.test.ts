import { describe, expect, it } from 'vitest';
import { invalidNodeIPReason, selectNodeIP } from '../../../src/host/nodeIP.js';

// Expected values follow upstream nodestatus.NodeAddress + validateNodeIP (v1.37.2).
const VM_IFACES = [
  '127.0.0.1',
  '::1',
  '10.0.2.15',
  'fec0::5054:ff:fe12:3456',
  'fe80::5054:ff:fe12:3456',
  '10.250.0.151',
];

describe('selectNodeIP (no --node-ip)', () => {
  it('takes the address the node name resolves to before the default-route interface (the kubeadm VM)', () => {
    expect(
      selectNodeIP({
        nodeName: 'kubeadm-vm',
        resolved: ['10.250.0.151'],
        interfaceAddresses: VM_IFACES,
        defaultRouteAddresses: ['fec0::5054:ff:fe12:3456', '10.0.2.15', '10.250.0.151'],
      }),
    ).toBe('10.250.0.151');
  });

  it('prefers an IPv4 resolved address over an earlier IPv6 one', () => {
    expect(
      selectNodeIP({
        nodeName: 'n',
        resolved: ['fec0::5054:ff:fe12:3456', '10.250.0.151'],
        interfaceAddresses: VM_IFACES,
        defaultRouteAddresses: ['10.0.2.15'],
      }),
    ).toBe('10.250.0.151');
  });

  it('takes a resolved IPv6 address when no IPv4 one is valid', () => {
    expect(
      selectNodeIP({
        nodeName: 'n',
        resolved: ['127.0.1.1', 'fec0::5054:ff:fe12:3456'],
        interfaceAddresses: VM_IFACES,
        defaultRouteAddresses: ['10.0.2.15'],
      }),
    ).toBe('fec0::5054:ff:fe12:3456');
  });

  it("skips loopback (Debian's 127.0.1.1 hostname entry) and addresses not on this host", () => {
    expect(
      selectNodeIP({
        nodeName: 'debian',
        resolved: ['127.0.1.1', '192.0.2.7'],
        interfaceAddresses: VM_IFACES,
        defaultRouteAddresses: ['10.0.2.15', 'fec0::5054:ff:fe12:3456'],
      }),
    ).toBe('10.0.2.15');
  });

  it('falls back to the default-route interface (IPv4 route first) when the name does not resolve', () => {
    expect(
      selectNodeIP({
        nodeName: 'n',
        resolved: [],
        interfaceAddresses: VM_IFACES,
        defaultRouteAddresses: ['10.0.2.15', 'fec0::5054:ff:fe12:3456'],
      }),
    ).toBe('10.0.2.15');
  });

  it('uses a node name that is itself an IP address', () => {
    expect(
      selectNodeIP({
        nodeName: '10.1.2.3',
        resolved: [],
        interfaceAddresses: [],
        defaultRouteAddresses: ['10.0.2.15'],
      }),
    ).toBe('10.1.2.3');
  });

  it('prefers IPv6 for --node-ip=::', () => {
    expect(
      selectNodeIP({
        nodeName: 'n',
        resolved: ['10.250.0.151', 'fec0::5054:ff:fe12:3456'],
        interfaceAddresses: VM_IFACES,
        defaultRouteAddresses: [],
        preferIPv6: true,
      }),
    ).toBe('fec0::5054:ff:fe12:3456');
  });

  it('is undefined when nothing qualifies', () => {
    expect(
      selectNodeIP({
        nodeName: 'n',
        resolved: ['127.0.0.1'],
        interfaceAddresses: ['127.0.0.1'],
        defaultRouteAddresses: [],
      }),
    ).toBeUndefined();
  });
});

describe('invalidNodeIPReason (upstream validateNodeIP)', () => {
  it.each([
    ['127.0.1.1', "nodeIP can't be loopback address"],
    ['::1', "nodeIP can't be loopback address"],
    ['224.0.0.1', "nodeIP can't be a multicast address"],
    ['169.254.1.1', "nodeIP can't be a link-local unicast address"],
    ['fe80::1', "nodeIP can't be a link-local unicast address"],
    ['0.0.0.0', "nodeIP can't be an all zeros address"],
    ['192.0.2.7', 'node IP: "192.0.2.7" not found in the host\'s network interfaces'],
  ])('%s → %s', (ip, reason) => {
    expect(invalidNodeIPReason(ip, VM_IFACES)).toBe(reason);
  });

  it('accepts an address of a local interface, in any IPv6 spelling', () => {
    expect(invalidNodeIPReason('10.250.0.151', VM_IFACES)).toBeUndefined();
    expect(invalidNodeIPReason('FEC0:0:0:0:5054:ff:fe12:3456', VM_IFACES)).toBeUndefined();
  });
});
