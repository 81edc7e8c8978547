import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestClient } from '../../../src/api/rest.js';
import { CriClient } from '../../../src/cri/client.js';
import { ClientCertificateRotator, servingCertificate } from '../../../src/node/certRotation.js';
import { KubeletAuth } from '../../../src/server/auth.js';
import { KubeletMetrics } from '../../../src/server/metrics.js';
import { KubeletServer } from '../../../src/server/server.js';
import { StatsProvider } from '../../../src/server/stats.js';
import { silentLogger } from '../../../src/util/log.js';

// serverTLSBootstrap (upstream kubelet server certificate manager): no certificate is served
// until a kubernetes.io/kubelet-serving CSR with the node's addresses is issued; then it is
// served from the next handshake on, without a restart.

let dir: string;
let server: KubeletServer;
let cri: CriClient;
let csrText = '';
let issued = '';

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8' });

function handshake(): Promise<tls.PeerCertificate> {
  const port = (server.server.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cert = s.getPeerCertificate();
      s.end();
      resolve(cert);
    });
    s.on('error', reject);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kts-serving-'));
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
  cri = new CriClient({ endpoint: `unix://${join(dir, 'no-cri.sock')}`, requestTimeoutMs: 500 });
  const rest = RestClient.fromClientConfig({ server: 'https://127.0.0.1:1', insecureSkipTLSVerify: true });
  server = new KubeletServer({
    address: '127.0.0.1',
    port: 0,
    nodeName: 'node-a',
    auth: new KubeletAuth({
      rest,
      anonymous: true,
      x509: false,
      webhookAuthn: false,
      authnCacheTtlMs: 0,
      authorizationMode: 'AlwaysAllow',
      allowTtlMs: 0,
      denyTtlMs: 0,
    }),
    cri,
    pods: { list: () => [], find: () => undefined, containers: async () => [] },
    stats: new StatsProvider({
      nodeName: 'node-a',
      nodeStartTime: '',
      cri,
      pods: () => [],
      nodeUsage: () => Promise.reject(new Error('unused')),
      rootFs: () => Promise.reject(new Error('unused')),
    }),
    metrics: new KubeletMetrics('node-a'),
    log: silentLogger,
    enableDebuggingHandlers: true,
  });
  await server.listen();
});

afterAll(() => {
  server?.close();
  cri?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('serverTLSBootstrap', () => {
  it('serves no certificate before the CSR is issued', async () => {
    await expect(handshake()).rejects.toThrow();
  });

  it('requests a kubelet-serving certificate for the node addresses and serves it once issued', async () => {
    const bodies: { spec: { signerName: string; usages: string[]; request: string } }[] = [];
    const rotator = new ClientCertificateRotator({
      api: {
        create: async <T>(_path: string, body: unknown): Promise<T> => {
          const b = body as (typeof bodies)[number];
          bodies.push(b);
          csrText = Buffer.from(b.spec.request, 'base64').toString();
          writeFileSync(join(dir, 'req.csr'), csrText);
          writeFileSync(
            join(dir, 'ext.cnf'),
            'subjectAltName=DNS:node-a,IP:10.0.0.7\nextendedKeyUsage=serverAuth\n',
          );
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
            '-extfile',
            'ext.cnf',
          );
          issued = readFileSync(join(dir, 'issued.crt'), 'utf8');
          return { metadata: { name: 'csr-s1' } } as T;
        },
        get: async <T>(): Promise<T> =>
          ({
            status: {
              conditions: [{ type: 'Approved', status: 'True' }],
              certificate: Buffer.from(issued).toString('base64'),
            },
          }) as T,
      },
      nodeName: 'node-a',
      certDir: join(dir, 'pki'),
      kind: servingCertificate(() => ({ dns: ['node-a'], ips: ['10.0.0.7'] })),
      currentCert: undefined,
      onRotated: (cert, key) => server.setServingCertificate(cert, key),
      pollMs: 10,
    });
    // No certificate yet: the rotation is due at once.
    expect(rotator.deadline()).toBe(0);
    await rotator.rotate();

    expect(bodies[0]?.spec.signerName).toBe('kubernetes.io/kubelet-serving');
    expect(bodies[0]?.spec.usages).toEqual(['digital signature', 'server auth']);
    const req = openssl('req', '-in', 'req.csr', '-noout', '-text');
    expect(req).toMatch(/Subject: O\s*=\s*system:nodes, CN\s*=\s*system:node:node-a/);
    expect(req).toMatch(/DNS:node-a, IP Address:10.0.0.7/);

    const peer = await handshake();
    expect(peer.subject.CN).toBe('system:node:node-a');
    expect(peer.subjectaltname).toBe('DNS:node-a, IP Address:10.0.0.7');
    expect(readFileSync(join(dir, 'pki', 'kubelet-server-current.pem'), 'utf8')).toContain(issued.trim());
  });
});
