import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pairTimestamp, storeKubeconfigClientCert, writePair } from '../../../src/node/certStore.js';

// Layout of upstream's certificate FileStore (client-go util/certificate/certificate_store.go).
describe('client certificate store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kts-pki-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('names pair files with Go layout 2006-01-02-15-04-05', () => {
    expect(pairTimestamp(new Date(2026, 11, 8, 1, 2, 3))).toBe('2026-12-08-01-02-03');
  });

  it('writes cert+key to a dated 0600 file behind the kubelet-client-current.pem link', async () => {
    const path = await writePair(dir, 'CERT\n', 'KEY\n', new Date(2026, 0, 2, 3, 4, 5));
    expect(path).toBe(join(dir, 'kubelet-client-2026-01-02-03-04-05.pem'));
    expect(await readFile(path, 'utf8')).toBe('CERT\nKEY\n');
    expect((await lstat(path)).mode & 0o777).toBe(0o600);
    expect(await readlink(join(dir, 'kubelet-client-current.pem'))).toBe(path);
    const next = await writePair(dir, 'CERT2', 'KEY2', new Date(2026, 0, 3, 3, 4, 5));
    expect(await readlink(join(dir, 'kubelet-client-current.pem'))).toBe(next);
  });

  it("stores a kubeconfig's embedded certificate once (kubeadm init's kubelet.conf)", async () => {
    const first = await storeKubeconfigClientCert(dir, { cert: Buffer.from('C'), key: Buffer.from('K') });
    expect(first).toBeDefined();
    expect(await readFile(join(dir, 'kubelet-client-current.pem'), 'utf8')).toBe('C\nK\n');
    expect(
      await storeKubeconfigClientCert(dir, { cert: Buffer.from('C2'), key: Buffer.from('K2') }),
    ).toBeUndefined();
    expect(
      await storeKubeconfigClientCert(join(dir, 'x'), { cert: undefined, key: undefined }),
    ).toBeUndefined();
  });
});
