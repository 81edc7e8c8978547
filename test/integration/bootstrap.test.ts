import { X509Certificate } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../../src/api/kubeconfig.js';
import type { RestClient } from '../../src/api/rest.js';
import type { ObjectList } from '../../src/api/types.js';
import { localDir, uniqueName } from '../helpers/env.js';
import { adminRest, startKubelet, stopKubelet } from '../helpers/kubelet.js';

// A node that starts with only a bootstrap token (as `kubeadm join` gives one) gets its client
// certificate through a CertificateSigningRequest that the controller-manager approves and signs.

const node = uniqueName('kts-boot');
const kubeletDir = join(localDir, 'kubelet');
let rest: RestClient;

interface Csr {
  metadata: { name: string };
  spec: { signerName: string; usages: string[]; username: string };
  status?: { certificate?: string; conditions?: { type: string; status: string }[] };
}

const csrsOf = async () =>
  (await rest.get<ObjectList<Csr>>('/apis/certificates.k8s.io/v1/certificatesigningrequests')).items.filter(
    (c) => {
      if (!c.status?.certificate) return false;
      return new X509Certificate(Buffer.from(c.status.certificate, 'base64')).subject.includes(
        `CN=system:node:${node}`,
      );
    },
  );

beforeAll(async () => {
  rest = await adminRest();
  await stopKubelet();
  await rm(join(kubeletDir, 'kubelet.kubeconfig'), { force: true });
  await rm(join(kubeletDir, 'pki'), { recursive: true, force: true });
  process.env.KUBELET_BOOTSTRAP = '1';
}, 120_000);

afterAll(async () => {
  await stopKubelet();
  delete process.env.KUBELET_BOOTSTRAP;
  await rest?.delete(`/api/v1/nodes/${node}`).catch(() => {});
  for (const c of await csrsOf().catch(() => [])) {
    await rest
      .delete(`/apis/certificates.k8s.io/v1/certificatesigningrequests/${c.metadata.name}`)
      .catch(() => {});
  }
  rest?.close();
}, 120_000);

describe('TLS bootstrap', () => {
  it('joins with a bootstrap token: CSR approved and signed, node Ready with its own certificate', async () => {
    await startKubelet(node);
    const csrs = await csrsOf();
    expect(csrs).toHaveLength(1);
    const csr = csrs[0]!;
    expect(csr.metadata.name).toMatch(/^node-csr-/);
    expect(csr.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    expect(csr.spec.usages).toEqual(['digital signature', 'client auth']);
    expect(csr.spec.username).toMatch(/^system:bootstrap:/);
    expect(csr.status?.conditions?.some((c) => c.type === 'Approved' && c.status === 'True')).toBe(true);

    const kc = loadKubeconfig(join(kubeletDir, 'kubelet.kubeconfig'));
    const cert = new X509Certificate(kc.cert!);
    expect(cert.subject).toContain(`CN=system:node:${node}`);
    expect(cert.subject).toContain('O=system:nodes');
    expect(await readFile(join(kubeletDir, 'pki', 'kubelet-client-current.pem'), 'utf8')).toContain(
      'PRIVATE KEY',
    );
  });

  it('reuses the issued certificate after a restart (no new CSR)', async () => {
    await stopKubelet();
    await startKubelet(node);
    expect(await csrsOf()).toHaveLength(1);
  });
});
