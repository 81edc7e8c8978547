/** Pod IPs from a fake 10.88.0.0/16 (the range containerd's default CNI config uses). */
export class IpPool {
  private readonly used = new Set<number>();
  private next = 2;
  private static readonly SIZE = 65_536;

  allocate(): string {
    for (let i = 0; i < IpPool.SIZE; i += 1) {
      const n = this.next;
      this.next = n + 1 >= IpPool.SIZE - 1 ? 2 : n + 1;
      if (!this.used.has(n)) {
        this.used.add(n);
        return `10.88.${n >> 8}.${n & 0xff}`;
      }
    }
    throw new Error('mock pod IP pool 10.88.0.0/16 exhausted');
  }

  release(ip: string): void {
    const m = /^10\.88\.(\d+)\.(\d+)$/.exec(ip);
    if (m) this.used.delete(Number(m[1]) * 256 + Number(m[2]));
  }
}
