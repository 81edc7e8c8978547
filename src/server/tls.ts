import { execFile } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The serving certificate: tlsCertFile/tlsPrivateKeyFile when configured, else a self-signed
 * pair <certDir>/kubelet.crt and kubelet.key for the hostname and node IPs (made once with
 * openssl, like upstream's self-signed fallback; Node's crypto cannot issue certificates).
 */
export async function servingCert(
  tlsCertFile: string,
  tlsPrivateKeyFile: string,
  certDir: string,
  hostname: string,
  ips: string[],
): Promise<{ cert: Buffer; key: Buffer; certFile: string }> {
  if (tlsCertFile && tlsPrivateKeyFile) {
    return {
      cert: await readFile(tlsCertFile),
      key: await readFile(tlsPrivateKeyFile),
      certFile: tlsCertFile,
    };
  }
  const certFile = join(certDir, 'kubelet.crt');
  const keyFile = join(certDir, 'kubelet.key');
  const exists = await stat(certFile).then(
    () =>
      stat(keyFile).then(
        () => true,
        () => false,
      ),
    () => false,
  );
  if (!exists) {
    await mkdir(certDir, { recursive: true, mode: 0o700 });
    const san = [`DNS:${hostname}`, ...ips.map((ip) => `IP:${ip}`)].join(',');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '365',
      '-subj',
      `/CN=${hostname}@${Math.floor(Date.now() / 1000)}`,
      '-addext',
      `subjectAltName=${san}`,
    ]);
  }
  return { cert: await readFile(certFile), key: await readFile(keyFile), certFile };
}
