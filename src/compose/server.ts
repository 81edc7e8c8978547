import { readFileSync } from 'node:fs';
import type { RestClient } from '../api/rest.js';
import type { ResolvedConfig } from '../config/index.js';
import type { CriClient } from '../cri/client.js';
import type { Pleg } from '../cri/pleg.js';
import { fsUsage, nodeUsage } from '../host/procStats.js';
import { ClientCertificateRotator, servingCertificate } from '../node/certRotation.js';
import { loadCurrentPair } from '../node/certStore.js';
import { KubeletAuth } from '../server/auth.js';
import { KubeletMetrics } from '../server/metrics.js';
import { KubeletServer } from '../server/server.js';
import { StatsProvider } from '../server/stats.js';
import { servingCert } from '../server/tls.js';
import type { ServerTlsOptions } from '../server/tlsOptions.js';
import type { SyncLoop } from '../sync/syncLoop.js';
import type { Logger } from '../util/log.js';

export interface ServerInputs {
  /** TLS settings from tlsMinVersion/tlsCipherSuites (server/tlsOptions.ts). */
  tls: ServerTlsOptions;
  cfg: ResolvedConfig;
  rest: RestClient;
  cri: CriClient;
  pleg: Pleg;
  syncLoop: SyncLoop;
  hostIPs: () => string[];
  log: Logger;
}

/**
 * The kubelet HTTPS API on :10250 (authn, authz, pods, logs, exec, stats, metrics), not yet
 * listening. With serverTLSBootstrap (and no tlsCertFile) its certificate comes from a
 * kubernetes.io/kubelet-serving CSR: `servingRotator` requests it (and rotates it), the server
 * serves nothing until it is issued (upstream).
 */
export async function buildServer(
  x: ServerInputs,
): Promise<{ server: KubeletServer; servingRotator: ClientCertificateRotator | undefined }> {
  const { cfg, rest, cri, syncLoop, log } = x;
  const auth = new KubeletAuth({
    rest,
    anonymous: cfg.authentication.anonymous.enabled,
    x509: cfg.authentication.x509.clientCAFile !== '',
    webhookAuthn: cfg.authentication.webhook.enabled,
    authnCacheTtlMs: cfg.authentication.webhook.cacheTTLMs,
    authorizationMode: cfg.authorization.mode,
    allowTtlMs: cfg.authorization.webhook.cacheAuthorizedTTLMs,
    denyTtlMs: cfg.authorization.webhook.cacheUnauthorizedTTLMs,
  });
  const bootstrapServing = cfg.serverTLSBootstrap && !cfg.tlsCertFile;
  const tls = bootstrapServing
    ? await loadCurrentPair(cfg.certDir, Date.now(), 'kubelet-server')
    : await servingCert(cfg.tlsCertFile, cfg.tlsPrivateKeyFile, cfg.certDir, cfg.nodeName, x.hostIPs());
  const pods = () => syncLoop.podConfig.all();
  const server = new KubeletServer({
    address: cfg.address,
    port: cfg.port,
    cert: tls?.cert,
    key: tls?.key,
    clientCA: cfg.authentication.x509.clientCAFile
      ? readFileSync(cfg.authentication.x509.clientCAFile)
      : undefined,
    nodeName: cfg.nodeName,
    tls: x.tls,
    auth,
    cri,
    metrics: new KubeletMetrics(cfg.nodeName, () => x.pleg.counts()),
    log,
    enableDebuggingHandlers: cfg.enableDebuggingHandlers,
    stats: new StatsProvider({
      nodeName: cfg.nodeName,
      nodeStartTime: new Date(Date.now() - process.uptime() * 1000).toISOString(),
      cri,
      pods,
      nodeUsage,
      rootFs: () => fsUsage(cfg.rootDir),
    }),
    pods: {
      list: pods,
      find: (ns, name, uid) =>
        pods().find(
          (p) =>
            p.metadata?.namespace === ns && p.metadata?.name === name && (!uid || p.metadata?.uid === uid),
        ),
      containers: async (uid) => (await syncLoop.runtimeCache.refresh(uid)).containers,
    },
  });
  const servingRotator = bootstrapServing
    ? new ClientCertificateRotator({
        api: rest,
        nodeName: cfg.nodeName,
        certDir: cfg.certDir,
        kind: servingCertificate(() => ({ dns: [cfg.nodeName], ips: x.hostIPs() })),
        currentCert: tls?.cert,
        onRotated: (cert, key) => server.setServingCertificate(cert, key),
        logger: log,
      })
    : undefined;
  return { server, servingRotator };
}
