/**
 * Certificate rotation (upstream client-go util/certificate Manager as the kubelet configures it
 * in pkg/kubelet/certificate/kubelet.go), for two pairs:
 * - the client certificate (rotateCertificates): signer kubernetes.io/kube-apiserver-client-kubelet,
 *   usages digital signature + client auth; the controller-manager's selfnodeclient approver signs
 *   it because the request is authenticated with the current certificate;
 * - the serving certificate (serverTLSBootstrap): signer kubernetes.io/kubelet-serving, usages
 *   digital signature + server auth, the node's hostnames and IPs as SANs; approved by hand
 *   (`kubectl certificate approve`) or by a cluster's own approver.
 * Both have subject O=system:nodes CN=system:node:<name>. At a jittered 70–90 % of the current
 * certificate's lifetime (at once when there is none) the kubelet makes a new key, requests a
 * certificate through a CertificateSigningRequest, stores it as a new <pair>-<time>.pem behind
 * <pair>-current.pem and hands it over without a restart.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RequestOptions } from '../api/rest.js';
import { sleep } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { writePair } from './certStore.js';

const run = promisify(execFile);

export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

/** What distinguishes the two pairs (upstream NewKubeletClientCertificateManager / ...ServerCertificateManager). */
export interface CertificateKind {
  pair: string;
  signerName: string;
  usages: string[];
  /** Subject alternative names for the request (serving: the node's current addresses). */
  sans?: () => { dns: string[]; ips: string[] };
}

export const CLIENT_CERTIFICATE: CertificateKind = {
  pair: 'kubelet-client',
  signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  usages: ['digital signature', 'client auth'],
};

export function servingCertificate(sans: () => { dns: string[]; ips: string[] }): CertificateKind {
  return {
    pair: 'kubelet-server',
    signerName: KUBELET_SERVING_SIGNER,
    usages: ['digital signature', 'server auth'],
    sans,
  };
}
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/**
 * PURE: upstream nextRotationDeadline: notBefore + wait.Jitter(total, 0.2) − 0.3·total, i.e. a
 * point at 70–90 % of the certificate's validity (`rand` in [0, 1)).
 */
export function nextRotationDeadline(notBeforeMs: number, notAfterMs: number, rand: number): number {
  const total = notAfterMs - notBeforeMs;
  return notBeforeMs + total * (1 + 0.2 * rand) - total * 0.3;
}

/** The part of RestClient a rotation needs. */
export interface CsrApi {
  create<T>(path: string, body: unknown, o?: RequestOptions): Promise<T>;
  get<T>(path: string, o?: RequestOptions): Promise<T>;
}

interface Csr {
  metadata?: { name?: string };
  status?: {
    certificate?: string;
    conditions?: { type: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface ClientCertificateRotatorOptions {
  api: CsrApi;
  nodeName: string;
  certDir: string;
  /** The client pair unless told otherwise. */
  kind?: CertificateKind;
  /** The certificate in use now (PEM); none: request one at once (serving certificate). */
  currentCert: Buffer | undefined;
  /** Called with each new pair once it is stored. */
  onRotated: (cert: Buffer, key: Buffer) => void;
  logger?: Logger;
  now?: () => number;
  random?: () => number;
  /** How long to wait for a CSR to be signed (upstream certificateWaitTimeout: 15 min). */
  waitTimeoutMs?: number;
  pollMs?: number;
}

/** Runs the rotation loop; failures are retried with backoff (2 s doubling to 5 min, as upstream). */
export class ClientCertificateRotator {
  private cert: Buffer | undefined;
  private readonly kind: CertificateKind;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly o: ClientCertificateRotatorOptions) {
    this.cert = o.currentCert;
    this.kind = o.kind ?? CLIENT_CERTIFICATE;
    this.log = (o.logger ?? silentLogger).child({ component: 'certificate-manager', pair: this.kind.pair });
    this.now = o.now ?? Date.now;
  }

  deadline(): number {
    if (!this.cert) return 0;
    const x = new X509Certificate(this.cert);
    return nextRotationDeadline(
      Date.parse(x.validFrom),
      Date.parse(x.validTo),
      (this.o.random ?? Math.random)(),
    );
  }

  async run(signal: AbortSignal): Promise<void> {
    let backoff = 2_000;
    while (!signal.aborted) {
      let wait: number;
      try {
        wait = Math.max(0, this.deadline() - this.now());
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'cannot read the current client certificate');
        return;
      }
      this.log.info({ rotationInMs: Math.round(wait) }, 'Waiting for the next certificate rotation');
      // Long waits are taken in slices so that a suspended machine still rotates in time.
      while (!signal.aborted && this.deadline() > this.now()) {
        await sleep(Math.min(Math.max(0, this.deadline() - this.now()), 3_600_000), signal).catch(() => {});
      }
      if (signal.aborted) return;
      try {
        await this.rotate(signal);
        backoff = 2_000;
      } catch (err) {
        if (signal.aborted) return;
        this.log.error(
          { err: (err as Error).message, retryInMs: backoff },
          'Failed while requesting a signed certificate from the control plane',
        );
        await sleep(backoff, signal).catch(() => {});
        backoff = Math.min(backoff * 2, 300_000);
      }
    }
  }

  /** One rotation: key, CSR, wait for the certificate, store, switch. */
  async rotate(signal?: AbortSignal): Promise<void> {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keyPem = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    await mkdir(this.o.certDir, { recursive: true, mode: 0o700 });
    const tmpKey = join(this.o.certDir, `${this.kind.pair}.key.rotation.tmp`);
    await writeFile(tmpKey, keyPem, { mode: 0o600 });
    const sans = this.kind.sans?.();
    const san = sans ? [...sans.dns.map((d) => `DNS:${d}`), ...sans.ips.map((ip) => `IP:${ip}`)] : [];
    let csrPem: string;
    try {
      // Node's crypto cannot build a PKCS#10 request; openssl can (as TLS bootstrap does).
      ({ stdout: csrPem } = await run('openssl', [
        'req',
        '-new',
        '-key',
        tmpKey,
        '-subj',
        `/O=system:nodes/CN=system:node:${this.o.nodeName}`,
        ...(san.length > 0 ? ['-addext', `subjectAltName=${san.join(',')}`] : []),
      ]));
    } finally {
      await rm(tmpKey, { force: true });
    }
    const created = await this.o.api.create<Csr>(
      CSR_PATH,
      {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { generateName: 'csr-' },
        spec: {
          request: Buffer.from(csrPem).toString('base64'),
          signerName: this.kind.signerName,
          usages: this.kind.usages,
        },
      },
      { signal },
    );
    const name = created.metadata?.name ?? '';
    this.log.info(
      { csr: name, signer: this.kind.signerName },
      'Certificate rotation: requested a new certificate',
    );
    const cert = await this.waitForCertificate(name, signal);
    await writePair(this.o.certDir, cert, keyPem, new Date(this.now()), this.kind.pair);
    this.cert = Buffer.from(cert);
    this.o.onRotated(Buffer.from(cert), Buffer.from(keyPem));
    this.log.info(
      { csr: name, expires: new X509Certificate(this.cert).validTo },
      'Certificate rotation: new certificate in use',
    );
  }

  private async waitForCertificate(name: string, signal?: AbortSignal): Promise<string> {
    const deadline = this.now() + (this.o.waitTimeoutMs ?? 900_000);
    for (;;) {
      const csr = await this.o.api.get<Csr>(`${CSR_PATH}/${encodeURIComponent(name)}`, { signal });
      const bad = csr.status?.conditions?.find(
        (c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False',
      );
      if (bad)
        throw new Error(
          `certificate signing request ${name} was ${bad.type.toLowerCase()}: ${bad.reason ?? ''} ${bad.message ?? ''}`.trim(),
        );
      const approved = csr.status?.conditions?.some((c) => c.type === 'Approved' && c.status !== 'False');
      if (approved && csr.status?.certificate)
        return Buffer.from(csr.status.certificate, 'base64').toString('utf8');
      if (this.now() > deadline)
        throw new Error(
          `timed out waiting for certificate signing request ${name} to be approved and signed`,
        );
      await sleep(this.o.pollMs ?? 1_000, signal);
    }
  }
}
