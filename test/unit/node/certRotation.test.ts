import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientCertificateRotator, nextRotationDeadline } from '../../../src/node/certRotation.js';
import { loadCurrentPair, splitPairPem } from '../../../src/node/certStore.js';

describe('nextRotationDeadline (upstream certificate manager)', () => {
  it('lies between 70 % and 90 % of the validity', () => {
    expect(nextRotationDeadline(0, 1000, 0)).toBeCloseTo(700);
    expect(nextRotationDeadline(0, 1000, 0.5)).toBeCloseTo(800);
    expect(nextRotationDeadline(1000, 2000, 0.999999)).toBeCloseTo(1900, 3);
  });
});

describe('ClientCertificateRotator', () => {
  let dir: string;
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kts-rotate-'));
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=test-ca',
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('requests a kubelet client certificate, stores it behind kubelet-client-current.pem and hands it over', async () => {
    interface CsrBody {
      metadata: unknown;
      spec: { request: string; signerName: string; usages: string[] };
    }
    const requests: { path: string; body: CsrBody }[] = [];
    let signed = '';
    const api = {
      create: async <T>(path: string, body: unknown): Promise<T> => {
        requests.push({ path, body: body as CsrBody });
        await writeFile(join(dir, 'req.csr'), Buffer.from((body as CsrBody).spec.request, 'base64'));
        openssl(
          'x509',
          '-req',
          '-in',
          'req.csr',
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          'issued.crt',
          '-days',
          '1',
        );
        signed = await readFile(join(dir, 'issued.crt'), 'utf8');
        return { metadata: { name: 'csr-x1' } } as T;
      },
      get: async <T>(path: string): Promise<T> => {
        expect(path).toBe('/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-x1');
        return {
          status: {
            conditions: [{ type: 'Approved', status: 'True' }],
            certificate: Buffer.from(signed).toString('base64'),
          },
        } as T;
      },
    };
    const rotated: { cert: Buffer; key: Buffer }[] = [];
    const r = new ClientCertificateRotator({
      api,
      nodeName: 'node-a',
      certDir: dir,
      currentCert: await readFile(join(dir, 'ca.crt')),
      onRotated: (cert, key) => rotated.push({ cert, key }),
      pollMs: 10,
    });
    await r.rotate();

    const req = requests[0];
    expect(req?.path).toBe('/apis/certificates.k8s.io/v1/certificatesigningrequests');
    expect(req?.body.metadata).toEqual({ generateName: 'csr-' });
    expect(req?.body.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    expect(req?.body.spec.usages).toEqual(['digital signature', 'client auth']);
    expect(openssl('req', '-in', 'req.csr', '-noout', '-subject')).toMatch(
      /O\s*=\s*system:nodes, CN\s*=\s*system:node:node-a/,
    );

    expect(rotated).toHaveLength(1);
    const current = await readFile(join(dir, 'kubelet-client-current.pem'), 'utf8');
    expect(splitPairPem(current).cert.trim()).toBe(signed.trim());
    expect(await readlink(join(dir, 'kubelet-client-current.pem'))).toMatch(
      /kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/,
    );
    const loaded = await loadCurrentPair(dir);
    expect(new X509Certificate(loaded?.cert ?? '').subject).toContain('CN=system:node:node-a');
    expect(loaded?.key.toString().trim()).toBe(rotated[0]?.key.toString().trim());
  });

  it('fails on a denied request with its reason', async () => {
    const r = new ClientCertificateRotator({
      api: {
        create: async <T>() => ({ metadata: { name: 'csr-d' } }) as T,
        get: async <T>() =>
          ({ status: { conditions: [{ type: 'Denied', status: 'True', reason: 'Nope' }] } }) as T,
      },
      nodeName: 'node-a',
      certDir: dir,
      currentCert: await readFile(join(dir, 'ca.crt')),
      onRotated: () => {},
    });
    await expect(r.rotate()).rejects.toThrow('certificate signing request csr-d was denied: Nope');
  });
});
