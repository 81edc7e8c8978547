/**
 * The kubelet's client certificate store (upstream k8s.io/client-go/util/certificate FileStore,
 * pair name "kubelet-client" in --cert-dir): each certificate and its key are written together
 * to `kubelet-client-<2006-01-02-15-04-05>.pem` (mode 0600) and `kubelet-client-current.pem` is
 * a symlink to the newest, replaced atomically. kubeadm's kubelet-finalize phase points
 * kubelet.conf at the link once it exists.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClientConfig } from '../api/kubeconfig.js';
import type { Logger } from '../util/log.js';

export const CLIENT_PAIR = 'kubelet-client';

/** Go's time.Format("2006-01-02-15-04-05") in local time (TZ=UTC on the nodes here). */
export function pairTimestamp(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}-${p(now.getHours())}-${p(now.getMinutes())}-${p(now.getSeconds())}`;
}

export const currentPairPath = (certDir: string, pair = CLIENT_PAIR): string =>
  join(certDir, `${pair}-current.pem`);

/** upstream FileStore.Update: writes the dated pair file and repoints the current link; returns its path. */
export async function writePair(
  certDir: string,
  certPem: string,
  keyPem: string,
  now = new Date(),
  pair = CLIENT_PAIR,
): Promise<string> {
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  const pemPath = join(certDir, `${pair}-${pairTimestamp(now)}.pem`);
  await writeFile(pemPath, `${certPem.trimEnd()}\n${keyPem.trimEnd()}\n`, { mode: 0o600 });
  const current = currentPairPath(certDir, pair);
  await rm(`${current}.tmp`, { force: true });
  await symlink(pemPath, `${current}.tmp`);
  await rename(`${current}.tmp`, current);
  return pemPath;
}

/**
 * With rotateCertificates, upstream's certificate manager starts from the kubeconfig's client
 * certificate when the store is empty and stores it at once (getCurrentCertificateOrBootstrap):
 * kubeadm init's kubelet.conf embeds the node's certificate, and kubelet-finalize then expects
 * kubelet-client-current.pem. Returns the written path, or undefined when nothing was to do.
 */
export async function storeKubeconfigClientCert(
  certDir: string,
  client: Pick<ClientConfig, 'cert' | 'key'>,
  log?: Logger,
): Promise<string | undefined> {
  if (!client.cert || !client.key || existsSync(currentPairPath(certDir))) return undefined;
  const path = await writePair(certDir, client.cert.toString('utf8'), client.key.toString('utf8'));
  log?.info({ path }, 'stored the kubeconfig client certificate for rotation (kubelet-client-current.pem)');
  return path;
}

/** PEM blocks of a pair file: the certificate chain and the private key. */
export function splitPairPem(pem: string): { cert: string; key: string } {
  const blocks = pem.match(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g) ?? [];
  const isKey = (b: string) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(b);
  return {
    cert: blocks.filter((b) => !isKey(b)).join('\n'),
    key: blocks.filter(isKey).join('\n'),
  };
}

/**
 * With rotation on, upstream's client uses the store's current pair over the kubeconfig's own
 * certificate (a rotated certificate survives a restart even when kubelet.conf embeds the
 * original). Returns it when it exists and is still valid.
 */
export async function loadCurrentPair(
  certDir: string,
  now = Date.now(),
  pair = CLIENT_PAIR,
): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  try {
    const { cert, key } = splitPairPem(await readFile(currentPairPath(certDir, pair), 'utf8'));
    if (!cert || !key) return undefined;
    const x = new X509Certificate(cert);
    if (Date.parse(x.validTo) <= now) return undefined;
    return { cert: Buffer.from(cert), key: Buffer.from(key) };
  } catch {
    return undefined;
  }
}
