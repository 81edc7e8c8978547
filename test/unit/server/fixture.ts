import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RestClient } from '../../../src/api/rest.js';
import type { Pod } from '../../../src/api/types.js';
import { CriClient } from '../../../src/cri/client.js';
import { KubeletAuth } from '../../../src/server/auth.js';
import { KubeletMetrics } from '../../../src/server/metrics.js';
import { KubeletServer, type KubeletServerOptions } from '../../../src/server/server.js';
import { StatsProvider } from '../../../src/server/stats.js';
import { silentLogger } from '../../../src/util/log.js';

export interface ServerFixture {
  server: KubeletServer;
  port: number;
  dir: string;
  close(): void;
}

/**
 * A KubeletServer on 127.0.0.1 with a self-signed EC certificate, anonymous AlwaysAllow auth,
 * one pod ns/p (container main), no runtime behind it and stats that fail.
 */
export async function startServer(
  over: Partial<KubeletServerOptions> | ((dir: string) => Partial<KubeletServerOptions>) = {},
): Promise<ServerFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'kts-server-'));
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=k'],
    ],
    { stdio: 'ignore' },
  );
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { containers: [{ name: 'main', image: 'busybox' }] },
  };
  const cri = new CriClient({ endpoint: `unix://${join(dir, 'no-cri.sock')}`, requestTimeoutMs: 300 });
  const rest = RestClient.fromClientConfig({ server: 'https://127.0.0.1:1', insecureSkipTLSVerify: true });
  const server = new KubeletServer({
    address: '127.0.0.1',
    port: 0,
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
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
    pods: {
      list: () => [pod],
      find: (ns, name) => (ns === 'ns' && name === 'p' ? pod : undefined),
      containers: async () => [{ id: 'c1', name: 'main', state: 'running', logPath: join(dir, 'nope.log') }],
    },
    stats: new StatsProvider({
      nodeName: 'node-a',
      nodeStartTime: '',
      cri,
      pods: () => [],
      nodeUsage: () => Promise.reject(new Error('no stats here')),
      rootFs: () => Promise.reject(new Error('no stats here')),
    }),
    metrics: new KubeletMetrics('node-a'),
    log: silentLogger,
    enableDebuggingHandlers: true,
    ...(typeof over === 'function' ? over(dir) : over),
  });
  await server.listen();
  return {
    server,
    port: (server.server.address() as AddressInfo).port,
    dir,
    close: () => {
      server.close();
      cri.close();
      rest.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
