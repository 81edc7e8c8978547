/** Facts about this machine that the Node object reports (gathered by src/host/facts.ts). */
export interface HostFacts {
  /** Lower-cased hostname (the default node name). */
  hostname: string;
  machineId: string;
  systemUuid: string;
  bootId: string;
  kernelVersion: string;
  /** e.g. "Debian GNU/Linux 12 (bookworm)" (PRETTY_NAME of /etc/os-release). */
  osImage: string;
  operatingSystem: 'linux';
  /** GOARCH spelling: amd64, arm64, ... */
  architecture: string;
  cpuCores: number;
  memoryBytes: number;
  /** Total bytes of the filesystem holding the kubelet root dir. */
  ephemeralStorageBytes: number;
  /** Hugepage capacity by size, e.g. { '2Mi': 0, '1Gi': 0 } (bytes). */
  hugepages: Record<string, number>;
  /** Non-loopback IPs of this machine, default-route source address first. */
  addresses: string[];
}
