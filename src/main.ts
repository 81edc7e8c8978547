#!/usr/bin/env node
import { setMaxListeners } from 'node:events';
import { KubeEventRecorder, restEventSink } from './api/events.js';
import { type ClientConfig, loadKubeconfig } from './api/kubeconfig.js';
import { PodSource } from './api/podSource.js';
import { RestClient } from './api/rest.js';
import { runDebugCli } from './cli/debug.js';
import { buildKubelet, type Kubelet, StartupError } from './compose/kubelet.js';
import { startNode } from './compose/node.js';
import { buildServer } from './compose/server.js';
import {
  ConfigError,
  FlagError,
  parseFlags,
  type ResolvedConfig,
  resolveConfig,
  usage,
} from './config/index.js';
import { CriClient } from './cri/client.js';
import { RuntimeHealth } from './cri/health.js';
import { gatherHostFacts } from './host/facts.js';
import type { HostFacts } from './host/types.js';
import { bootstrapClientCertificate } from './node/bootstrap.js';
import { ClientCertificateRotator } from './node/certRotation.js';
import { loadCurrentPair, storeKubeconfigClientCert } from './node/certStore.js';
import { KUBELET_VERSION } from './node/config.js';
import { startHealthz } from './server/healthz.js';
import type { KubeletServer } from './server/server.js';
import { serverTlsOptions } from './server/tlsOptions.js';
import { sleep } from './util/abort.js';
import { RetryDelay } from './util/backoff.js';
import { errorMessage } from './util/errors.js';
import { createLogger, type Logger } from './util/log.js';

/** Retries `fn` with backoff (200 ms doubling to 7 s) until it works, logging why it does not. */
async function untilReady<T>(
  what: string,
  fn: () => Promise<T>,
  log: Logger,
  signal: AbortSignal,
): Promise<T> {
  const retry = new RetryDelay(200, 7_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw err;
      const delay = retry.next();
      log.warn({ attempt, retryInMs: delay, err: errorMessage(err) }, `waiting for ${what}`);
      await sleep(delay, signal);
    }
  }
}

/** Flags and configuration; a number is the exit code to stop with (help, version, bad input). */
function configure(argv: string[]): ReturnType<typeof resolveConfig> | number {
  try {
    const flags = parseFlags(argv);
    if (flags.help) {
      process.stdout.write(usage());
      return 0;
    }
    if (flags.version) {
      // kubeadm's preflight parses `Kubernetes vX.Y.Z` (upstream verflag).
      process.stdout.write(`Kubernetes ${KUBELET_VERSION}\n`);
      return 0;
    }
    return resolveConfig(argv);
  } catch (err) {
    if (err instanceof FlagError || err instanceof ConfigError) {
      process.stderr.write(`kubelet-ts: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** TLS bootstrap when asked for, then the kubeconfig's client settings. */
async function credentials(cfg: ResolvedConfig, log: Logger, signal: AbortSignal): Promise<ClientConfig> {
  if (cfg.bootstrapKubeconfig) {
    await untilReady(
      `a client certificate through TLS bootstrap (${cfg.bootstrapKubeconfig})`,
      () =>
        bootstrapClientCertificate({
          nodeName: cfg.nodeName,
          kubeconfigPath: cfg.kubeconfig ?? '',
          bootstrapKubeconfigPath: cfg.bootstrapKubeconfig ?? '',
          certDir: cfg.certDir,
          logger: log,
          signal,
        }),
      log,
      signal,
    );
  }
  const client = loadKubeconfig(cfg.kubeconfig ?? '');
  if (!cfg.rotateCertificates) return client;
  // Upstream's certificate manager stores the kubeconfig's certificate at once and prefers the
  // store's current pair afterwards (kubeadm's kubelet-finalize relies on the first).
  await storeKubeconfigClientCert(cfg.certDir, client, log).catch((err) =>
    log.warn({ err: errorMessage(err), certDir: cfg.certDir }, 'cannot store the client certificate'),
  );
  const current = await loadCurrentPair(cfg.certDir);
  return current ? { ...client, ...current } : client;
}

/** Waits for the container runtime (CRI v1); the API server is not waited for (static pods). */
async function waitForRuntime(cfg: ResolvedConfig, cri: CriClient, log: Logger, signal: AbortSignal) {
  const runtime = await untilReady(
    `the container runtime at ${cfg.containerRuntimeEndpoint}`,
    () => cri.version({ timeoutMs: 5_000 }),
    log,
    signal,
  );
  if (runtime.runtimeApiVersion !== 'v1') {
    throw new StartupError(`runtime API version ${runtime.runtimeApiVersion} is not supported (need v1)`);
  }
  log.info({ runtime: `${runtime.runtimeName} ${runtime.runtimeVersion}` }, 'container runtime reachable');
}

/**
 * The composition root: reads configuration, builds every part in dependency order
 * (compose/kubelet.ts, compose/node.ts, compose/server.ts), runs them until SIGTERM, and leaves
 * the pods running. It decides nothing itself.
 */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'timeline' || argv[0] === 'explain') return runDebugCli(argv);
  const configured = configure(argv);
  if (typeof configured === 'number') return configured;
  const cfg = configured.config;
  const log = createLogger({ level: cfg.logLevel });
  for (const w of configured.warnings) log.warn(w);
  // Upstream InitializeTLS: an unknown version or suite stops the kubelet.
  const tlsOptions = serverTlsOptions(cfg.tlsMinVersion, cfg.tlsCipherSuites);
  if (!tlsOptions.ok) {
    process.stderr.write(`kubelet-ts: failed to run Kubelet: ${tlsOptions.error}\n`);
    return 2;
  }
  for (const cipher of tlsOptions.options.insecure) log.info({ cipher }, 'Use of insecure cipher detected.');
  // Upstream serves healthzPort with the ping check only, from the start (kubeadm waits for it
  // before the API server exists); unref'd so that it never holds a failed start open.
  const healthz =
    cfg.healthzPort > 0
      ? startHealthz(cfg.healthzBindAddress, cfg.healthzPort, () => ({ ok: true, message: '' }), log).unref()
      : undefined;
  if (!cfg.kubeconfig) {
    process.stderr.write('kubelet-ts: --kubeconfig is required (standalone mode is not supported)\n');
    return 2;
  }

  const ac = new AbortController();
  const { signal } = ac;
  // Every long-running loop (a dozen) listens on this one signal: that is not a leak.
  setMaxListeners(64, signal);
  const stop = (sig: string) => {
    if (signal.aborted) return;
    log.info({ signal: sig }, 'shutting down; pods keep running');
    ac.abort();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  let clientConfig: ClientConfig;
  try {
    clientConfig = await credentials(cfg, log, signal);
  } catch (err) {
    if (signal.aborted) return 0;
    process.stderr.write(`kubelet-ts: ${errorMessage(err)}\n`);
    return cfg.bootstrapKubeconfig ? 1 : 2;
  }
  const userAgent = `kubelet-ts/${KUBELET_VERSION} (linux) kubernetes/${KUBELET_VERSION}`;
  const rest = RestClient.fromClientConfig(clientConfig, {
    userAgent,
    qps: cfg.kubeAPIQPS || 1e9,
    burst: cfg.kubeAPIBurst || 1e9,
  });
  // Events get their own connection pool and rate (eventRecordQPS/eventBurst, applied by the
  // recorder), as upstream gives them their own client: a burst of events must not eat the
  // budget of status patches.
  const eventRest = RestClient.fromClientConfig(clientConfig, { userAgent, qps: 1e9, burst: 1e9 });
  const cri = new CriClient({
    endpoint: cfg.containerRuntimeEndpoint,
    logger: log,
    requestTimeoutMs: cfg.runtimeRequestTimeoutMs,
  });

  let facts: HostFacts;
  let kubelet: Kubelet;
  const health = new RuntimeHealth(cri, { logger: log });
  let nodeLabels: Record<string, string> = {};
  const recorder = new KubeEventRecorder({
    sink: restEventSink(eventRest),
    nodeName: cfg.nodeName,
    qps: cfg.eventRecordQPS || 1e9,
    burst: cfg.eventBurst,
    log,
    signal,
  });
  const hostIPs = () => (cfg.nodeIPs.length > 0 ? cfg.nodeIPs : facts.addresses.slice(0, 1));
  try {
    facts = await gatherHostFacts({ rootDir: cfg.rootDir, nodeName: cfg.nodeName });
    await waitForRuntime(cfg, cri, log, signal);
    await health.check(signal);
    kubelet = await buildKubelet({
      cfg,
      rest,
      cri,
      recorder,
      facts,
      health,
      hostIPs,
      nodeLabels: () => nodeLabels,
      log,
    });
  } catch (err) {
    if (signal.aborted) return 0;
    log.fatal({ err: errorMessage(err) }, 'startup failed');
    return 1;
  }

  // Everything that works without the API server starts now: static pods run at once (this is
  // how a kubeadm control plane boots); the API side follows once the API server answers.
  const clientRotator =
    cfg.rotateCertificates && clientConfig.cert
      ? new ClientCertificateRotator({
          api: rest,
          nodeName: cfg.nodeName,
          certDir: cfg.certDir,
          currentCert: clientConfig.cert,
          onRotated: (cert, key) => {
            rest.setClientCertificate(cert, key);
            eventRest.setClientCertificate(cert, key);
          },
          logger: log,
        })
      : undefined;
  const localTasks = [
    health.run(signal),
    ...kubelet.run(signal),
    ...(clientRotator ? [clientRotator.run(signal)] : []),
  ];
  const stopLocal = async () => {
    ac.abort();
    await Promise.allSettled(localTasks);
    kubelet.probeManager.stop();
    healthz?.close();
    cri.close();
    rest.close();
    eventRest.close();
    log.info('stopped');
    log.flush();
  };
  const apiUp = await untilReady(
    `the API server at ${rest.server}`,
    () => rest.get('/version', { timeoutMs: 5_000 }),
    log,
    signal,
  ).then(
    () => true,
    () => false,
  );
  const node = !apiUp
    ? undefined
    : await startNode(
        {
          cfg,
          nodeConfig: kubelet.nodeConfig,
          rest,
          cri,
          recorder,
          facts,
          health,
          pleg: kubelet.pleg,
          pressure: kubelet.nodePressure,
          log,
        },
        signal,
      );
  if (!node) {
    const aborted = signal.aborted;
    await stopLocal();
    return aborted ? 0 : 1;
  }
  nodeLabels = node.labels;
  // The Lease and the node status start with registration (upstream runs them from the start),
  // not after the kubelet API is up.
  const nodeTasks = node.run(signal);

  const podConfig = kubelet.syncLoop.podConfig;
  const podSource = new PodSource({
    rest,
    nodeName: cfg.nodeName,
    logger: log,
    handler: {
      onSnapshot: (pods) => podConfig.snapshot(pods),
      onUpsert: (pod) => podConfig.upsert(pod),
      onDelete: (pod) => podConfig.delete(pod),
    },
  });

  let server: KubeletServer | undefined;
  const serverTasks: Promise<unknown>[] = [];
  if (cfg.enableServer) {
    const built = await buildServer({
      tls: tlsOptions.options,
      cfg,
      rest,
      cri,
      pleg: kubelet.pleg,
      syncLoop: kubelet.syncLoop,
      hostIPs,
      log,
      debug: kubelet.debug,
    });
    server = built.server;
    if (built.servingRotator) serverTasks.push(built.servingRotator.run(signal));
    try {
      await server.listen();
    } catch (err) {
      log.fatal(
        { err: errorMessage(err), address: cfg.address, port: cfg.port },
        'cannot serve the kubelet API',
      );
      await stopLocal();
      return 1;
    }
    log.info({ address: cfg.address, port: cfg.port }, 'kubelet API listening');
  }

  // API pods only after registration, as upstream starts its API source once the Node informer
  // synced: admission needs the node's labels (nodeSelector, affinity).
  const tasks = [...localTasks, ...nodeTasks, ...serverTasks, podSource.run(signal)];
  log.info(
    { node: cfg.nodeName, endpoint: cfg.containerRuntimeEndpoint, api: rest.server },
    'kubelet-ts started',
  );
  await Promise.allSettled(tasks);
  kubelet.probeManager.stop();
  healthz?.close();
  server?.close();
  await recorder.flush?.().catch(() => {});
  cri.close();
  rest.close();
  eventRest.close();
  log.info('stopped');
  log.flush();
  return 0;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain || process.env.KUBELET_TS_MAIN === '1') {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`kubelet-ts: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
