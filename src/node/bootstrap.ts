import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isAlreadyExists } from '../api/errors.js';
import { loadKubeconfig } from '../api/kubeconfig.js';
import { RestClient } from '../api/rest.js';
import { sleep } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { currentPairPath, writePair } from './certStore.js';

const run = promisify(execFile);

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';

interface Csr {
  metadata?: { name?: string };
  spec?: { request?: string; signerName?: string; usages?: string[] };
  status?: {
    certificate?: string;
    conditions?: { type: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface BootstrapOptions {
  nodeName: string;
  /** Where the kubelet's own kubeconfig is written (--kubeconfig). */
  kubeconfigPath: string;
  bootstrapKubeconfigPath: string;
  /** --cert-dir: kubelet-client-<time>.pem and the kubelet-client-current.pem link. */
  certDir: string;
  logger?: Logger;
  signal?: AbortSignal;
  /** How long to wait for the certificate (upstream: 1 h). */
  timeoutMs?: number;
  pollMs?: number;
}

/** True when the kubeconfig exists and its client certificate is valid for at least a minute. */
export async function kubeconfigUsable(path: string, now = Date.now()): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    const c = loadKubeconfig(path);
    if (!c.cert) return c.token !== undefined || c.tokenFile !== undefined;
    const x = new X509Certificate(c.cert);
    return Date.parse(x.validFrom) <= now && Date.parse(x.validTo) > now + 60_000;
  } catch {
    return false;
  }
}

/**
 * Upstream's name for a node client CSR: node-csr-<base64url of a digest over the public key,
 * CN, O and usages>, so a kubelet that restarts mid-bootstrap finds its own request again.
 */
export function csrName(publicKeyDer: Buffer, nodeName: string, usages: string[]): string {
  const h = createHash('sha512-256');
  h.update(publicKeyDer);
  h.update(`system:node:${nodeName}`);
  h.update('system:nodes');
  for (const u of usages) h.update(u);
  return `node-csr-${h.digest('base64url')}`;
}

/**
 * Kubelet TLS bootstrap (upstream certificate/bootstrap): with the bootstrap kubeconfig's
 * token, request a client certificate (CSR O=system:nodes, CN=system:node:<name>, signer
 * kube-apiserver-client-kubelet), wait until it is approved and issued, store key+cert as
 * kubelet-client-<time>.pem behind the kubelet-client-current.pem link, and write the kubelet's
 * kubeconfig pointing at it. A no-op while the existing kubeconfig's certificate is valid.
 */
export async function bootstrapClientCertificate(o: BootstrapOptions): Promise<boolean> {
  const log = o.logger ?? silentLogger;
  if (await kubeconfigUsable(o.kubeconfigPath)) return false;
  const boot = loadKubeconfig(o.bootstrapKubeconfigPath);
  const rest = RestClient.fromClientConfig(boot, { userAgent: 'kubelet-ts/bootstrap' });
  try {
    await mkdir(o.certDir, { recursive: true, mode: 0o700 });
    // Reuse a key from an interrupted bootstrap so the CSR name (and request) stays the same.
    const tmpKey = join(o.certDir, 'kubelet-client.key.tmp');
    let keyPem: string;
    if (existsSync(tmpKey)) {
      keyPem = await readFile(tmpKey, 'utf8');
    } else {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      keyPem = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
      await writeFile(tmpKey, keyPem, { mode: 0o600 });
    }
    const { createPrivateKey, createPublicKey } = await import('node:crypto');
    const pubDer = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    // Node's crypto cannot build a PKCS#10 request; openssl (a hack/ and Debian staple) can.
    const { stdout: csrPem } = await run('openssl', [
      'req',
      '-new',
      '-key',
      tmpKey,
      '-subj',
      `/O=system:nodes/CN=system:node:${o.nodeName}`,
    ]);
    const usages = ['digital signature', 'client auth'];
    const name = csrName(pubDer, o.nodeName, usages);
    const path = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
    try {
      await rest.create<Csr>(path, {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name },
        spec: { request: Buffer.from(csrPem).toString('base64'), signerName: KUBELET_CLIENT_SIGNER, usages },
      });
      log.info({ csr: name }, 'requested a client certificate (TLS bootstrap)');
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      log.info({ csr: name }, 'waiting for the existing certificate signing request');
    }
    const deadline = Date.now() + (o.timeoutMs ?? 3_600_000);
    let cert: string | undefined;
    while (!cert) {
      const csr = await rest.get<Csr>(`${path}/${name}`, { signal: o.signal });
      const denied = csr.status?.conditions?.find(
        (c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False',
      );
      if (denied)
        throw new Error(
          `certificate signing request ${name} was ${denied.type.toLowerCase()}: ${denied.reason ?? ''} ${denied.message ?? ''}`.trim(),
        );
      const approved = csr.status?.conditions?.some((c) => c.type === 'Approved' && c.status !== 'False');
      if (approved && csr.status?.certificate)
        cert = Buffer.from(csr.status.certificate, 'base64').toString('utf8');
      else {
        if (Date.now() > deadline)
          throw new Error(
            `timed out waiting for certificate signing request ${name} to be approved and signed`,
          );
        await sleep(o.pollMs ?? 1_000, o.signal);
      }
    }
    const pemPath = await writePair(o.certDir, cert, keyPem);
    const current = currentPairPath(o.certDir);
    await rm(tmpKey, { force: true });
    const ca = boot.ca ? `    certificate-authority-data: ${boot.ca.toString('base64')}\n` : '';
    const insecure = boot.insecureSkipTLSVerify ? '    insecure-skip-tls-verify: true\n' : '';
    await mkdir(join(o.kubeconfigPath, '..'), { recursive: true });
    await writeFile(
      o.kubeconfigPath,
      `apiVersion: v1
kind: Config
clusters:
- name: default-cluster
  cluster:
    server: ${boot.server}
${ca}${insecure}contexts:
- name: default-context
  context:
    cluster: default-cluster
    namespace: default
    user: default-auth
current-context: default-context
users:
- name: default-auth
  user:
    client-certificate: ${current}
    client-key: ${current}
`,
      { mode: 0o600 },
    );
    log.info(
      { kubeconfig: o.kubeconfigPath, cert: pemPath },
      'TLS bootstrap done: wrote the kubelet kubeconfig',
    );
    return true;
  } finally {
    rest.close();
  }
}
