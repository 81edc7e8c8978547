import { mkdtemp, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemCapacityBytes, gatherHostFacts } from '../../../src/host/facts.js';
import type { HostFacts } from '../../../src/host/types.js';

// Invariants checked against the machine the tests run on.
describe('gatherHostFacts (this machine)', () => {
  let dir: string;
  let facts: HostFacts;
  let elapsedMs: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubelet-ts-facts-'));
    const start = performance.now();
    facts = await gatherHostFacts({ rootDir: join(dir, 'does', 'not', 'exist', 'yet') });
    elapsedMs = performance.now() - start;
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is fast', () => {
    expect(elapsedMs).toBeLessThan(200);
  });

  it('reports CPU, memory and storage capacity', () => {
    expect(facts.cpuCores).toBeGreaterThan(0);
    expect(Number.isInteger(facts.cpuCores)).toBe(true);
    expect(facts.memoryBytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(facts.memoryBytes % 1024).toBe(0);
    expect(facts.ephemeralStorageBytes).toBeGreaterThan(0);
  });

  it('reports identity and OS', () => {
    expect(facts.bootId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(facts.machineId).toMatch(/^[0-9a-f]{32}$/);
    expect(facts.hostname).toBe(facts.hostname.toLowerCase());
    expect(facts.hostname).not.toBe('');
    expect(facts.kernelVersion).toMatch(/^\d+\.\d+/);
    expect(facts.osImage).not.toBe('');
    expect(facts.operatingSystem).toBe('linux');
    expect(typeof facts.systemUuid).toBe('string');
  });

  it('uses GOARCH names (amd64 on x64)', () => {
    const expected = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
    if (expected) expect(facts.architecture).toBe(expected);
    expect(facts.architecture).not.toBe('x64');
  });

  it('reports non-loopback addresses', () => {
    expect(facts.addresses.length).toBeGreaterThan(0);
    for (const address of facts.addresses) {
      expect(isIP(address)).not.toBe(0);
      expect(address.startsWith('127.')).toBe(false);
      expect(address).not.toBe('::1');
    }
    expect(new Set(facts.addresses).size).toBe(facts.addresses.length);
  });

  it('keys hugepages by canonical size', () => {
    for (const [size, bytes] of Object.entries(facts.hugepages)) {
      expect(size).toMatch(/^\d+(Ki|Mi|Gi)$/);
      expect(bytes).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('filesystemCapacityBytes', () => {
  it('walks up to the nearest existing directory', async () => {
    const root = await filesystemCapacityBytes('/');
    expect(root).toBeGreaterThan(0);
    expect(await filesystemCapacityBytes('/proc/../nonexistent/deeper')).toBe(root);
  });
});
