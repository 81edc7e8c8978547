/** kubeReserved / systemReserved: upstream's parseResourceList (cmd/kubelet/app/server.go). */
import { cpuToMillis, memoryToBytes, parseQuantity, QuantityError } from '../util/quantity.js';
import type { ReservedResources } from './types.js';

const RESERVABLE = ['cpu', 'memory', 'ephemeral-storage', 'pid'] as const;
type Reservable = (typeof RESERVABLE)[number];

/** Checks one entry; throws with upstream's message when the resource or quantity is not acceptable. */
export function checkReservedEntry(resource: string, value: string): void {
  if (!(RESERVABLE as readonly string[]).includes(resource))
    throw new Error(`cannot reserve ${JSON.stringify(resource)} resource`);
  let amount: number;
  try {
    amount = parseQuantity(value);
  } catch (e) {
    if (e instanceof QuantityError) {
      throw new Error(
        `failed to parse quantity ${JSON.stringify(value)} for ${JSON.stringify(resource)} resource: ${e.message}`,
      );
    }
    throw e;
  }
  if (amount < 0)
    throw new Error(`resource quantity for ${JSON.stringify(resource)} cannot be negative: ${value}`);
}

/** Converts a validated reservation map into numbers (missing resources reserve 0). */
export function parseReservedResources(map: Readonly<Record<string, string>> | undefined): ReservedResources {
  const get = (r: Reservable): string | undefined => map?.[r];
  for (const [resource, value] of Object.entries(map ?? {})) checkReservedEntry(resource, value);
  const cpu = get('cpu');
  const memory = get('memory');
  const storage = get('ephemeral-storage');
  const pid = get('pid');
  return {
    cpuMillis: cpu === undefined ? 0 : cpuToMillis(cpu),
    memoryBytes: memory === undefined ? 0 : memoryToBytes(memory),
    ephemeralStorageBytes: storage === undefined ? 0 : memoryToBytes(storage),
    pids: pid === undefined ? 0 : memoryToBytes(pid),
  };
}
