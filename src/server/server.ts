import { type IncomingMessage, ServerResponse } from 'node:http';
import * as https from 'node:https';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Pod } from '../api/types.js';
import type { CriClient } from '../cri/client.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { forbiddenMessage, requestAttributes } from './attributes.js';
import type { KubeletAuth } from './auth.js';
import { writeContainerLog } from './containerLogs.js';
import type { LogOptions } from './criLog.js';
import type { KubeletMetrics } from './metrics.js';
import type { StatsProvider } from './stats.js';
import { proxyUpgrade, streamOptions } from './streaming.js';
import type { ServerTlsOptions } from './tlsOptions.js';

export interface ServedContainer {
  id: string;
  name: string;
  state: string;
  logPath: string;
}

/** What the kubelet API serves about pods (adapted from the sync loop in main.ts). */
export interface ServerPods {
  list(): Pod[];
  find(namespace: string, name: string, uid?: string): Pod | undefined;
  /** The pod's runtime containers, newest first. */
  containers(uid: string): Promise<ServedContainer[]>;
}

export interface KubeletServerOptions {
  address: string;
  port: number;
  /**
   * The serving certificate; absent with serverTLSBootstrap until the CSR is approved (every TLS
   * handshake fails meanwhile, as upstream's "no serving certificate available for the kubelet").
   */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Client CA for x509 authentication (PEM). */
  clientCA?: string | Buffer;
  nodeName: string;
  /** tlsMinVersion and tlsCipherSuites (default: TLS 1.2 and up, Node's default suites). */
  tls?: ServerTlsOptions;
  auth: KubeletAuth;
  cri: CriClient;
  pods: ServerPods;
  stats: StatsProvider;
  metrics: KubeletMetrics;
  log: Logger;
  enableDebuggingHandlers: boolean;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function writeRaw(socket: Duplex, code: number, status: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${code} ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const STREAMING_HANDLERS = new Set(['exec', 'attach', 'portForward']);
const isStreamingPath = (url: string | undefined) =>
  STREAMING_HANDLERS.has(new URL(url ?? '/', 'https://kubelet').pathname.split('/')[1] ?? '');

const boolParam = (q: URLSearchParams, k: string) => ['1', 'true'].includes((q.get(k) ?? '').toLowerCase());
const intParam = (q: URLSearchParams, k: string) => {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new HttpError(400, `invalid ${k}: ${JSON.stringify(v)}`);
  return n;
};

/**
 * The kubelet HTTPS API on :10250: x509/token authentication, SubjectAccessReview
 * authorization, and /healthz, /pods, /metrics, /stats/summary, /containerLogs, /run, and the
 * /exec, /attach, /portForward upgrades proxied to the runtime's streaming server.
 */
export class KubeletServer {
  readonly server: https.Server;

  constructor(private readonly o: KubeletServerOptions) {
    this.server = https.createServer(
      {
        ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}),
        ca: o.clientCA,
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: o.tls?.minVersion ?? 'TLSv1.2',
        ...(o.tls?.ciphers ? { ciphers: o.tls.ciphers } : {}),
        maxHeaderSize: 1024 * 1024,
      },
      (req, res) => this.serve(req, res),
    );
    this.server.on('upgrade', (req, socket, head) => {
      if (!isStreamingPath(req.url) && socket instanceof Socket) {
        this.serveUpgradeAsRequest(req, socket, head);
        return;
      }
      this.upgrade(req, socket, head).catch((err) => {
        const code = err instanceof HttpError ? err.code : 500;
        writeRaw(
          socket,
          code,
          code === 404 ? 'Not Found' : code === 400 ? 'Bad Request' : 'Error',
          `${errorMessage(err)}\n`,
        );
      });
    });
    this.server.keepAliveTimeout = 90_000;
  }

  /** Serves a new (rotated or newly issued) certificate from the next handshake on. */
  setServingCertificate(cert: string | Buffer, key: string | Buffer): void {
    this.server.setSecureContext({ cert, key, ...(this.o.clientCA ? { ca: this.o.clientCA } : {}) });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((err) => {
      const code = err instanceof HttpError ? err.code : 500;
      if (code === 500) this.o.log.warn({ err: String(err), path: req.url }, 'kubelet API request failed');
      send(res, code, `${errorMessage(err)}\n`);
    });
  }

  /**
   * Go's net/http answers an Upgrade request like any other unless the handler hijacks the
   * connection, and only /exec, /attach and /portForward do: the others (a websocket GET of
   * /containerLogs, say) get their ordinary response, then the connection closes.
   */
  private serveUpgradeAsRequest(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (head.length > 0) socket.unshift(head);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      socket.end();
    });
    this.serve(req, res);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.address, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections?.();
  }

  /**
   * Authenticates, then authorizes as upstream's auth filter: each attribute in turn (the
   * fine-grained subresource first, then the coarse one); the first allowed one admits the
   * request, an authorizer error answers 500 at once, and no allowed one answers 403.
   */
  private async check(req: IncomingMessage, url: URL): Promise<HttpError | undefined> {
    const authn = await this.o.auth.authenticate(req.socket as TLSSocket, req.headers.authorization);
    if (!authn.ok) return new HttpError(401, 'Unauthorized');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return new HttpError(400, `invalid path: ${JSON.stringify(url.pathname)}`);
    }
    const attrs = requestAttributes(req.method ?? '', path, this.o.nodeName);
    for (const a of attrs) {
      const authz = await this.o.auth.authorize(authn.user, a);
      if (authz.allowed) return undefined;
      if (authz.error)
        return new HttpError(
          500,
          `Authorization error (user=${authn.user.name}, verb=${a.verb}, resource=nodes, subresource=${a.subresource})`,
        );
    }
    return new HttpError(403, forbiddenMessage(authn.user.name, attrs).trimEnd());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const denied = await this.check(req, url);
    this.o.metrics.httpRequests.inc({
      method: req.method ?? 'GET',
      path: url.pathname.split('/')[1] ?? '',
      server_type: 'readwrite',
    });
    if (denied) {
      send(res, denied.code, `${denied.message}\n`);
      return;
    }
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;
    switch (parts[0]) {
      case 'healthz':
        send(res, 200, 'ok');
        return;
      case 'pods':
        send(
          res,
          200,
          JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: this.o.pods.list() }),
          'application/json',
        );
        return;
      case 'metrics':
        send(res, 200, await this.o.metrics.registry.metrics(), this.o.metrics.registry.contentType);
        return;
      case 'stats':
        if (parts[1] !== 'summary') throw new HttpError(404, '404 page not found');
        send(
          res,
          200,
          JSON.stringify(await this.o.stats.summary(boolParam(q, 'only_cpu_and_memory'))),
          'application/json',
        );
        return;
      case 'containerLogs':
        this.debugging('containerLogs');
        await this.containerLogs(parts, q, res);
        return;
      case 'run':
        this.debugging('run');
        await this.run(parts, q, req, res);
        return;
      case 'exec':
      case 'attach':
      case 'portForward':
        this.debugging(parts[0]);
        throw new HttpError(400, 'Upgrade request required');
      default:
        throw new HttpError(404, '404 page not found');
    }
  }

  private debugging(name: string): void {
    if (!this.o.enableDebuggingHandlers) throw new HttpError(405, `${name} endpoint is disabled.`);
  }

  private pod(ns: string | undefined, name: string | undefined, uid?: string): Pod {
    const pod = ns && name ? this.o.pods.find(ns, name, uid) : undefined;
    if (!pod) throw new HttpError(404, `pod does not exist`);
    return pod;
  }

  private async container(pod: Pod, name: string | undefined, previous = false): Promise<ServedContainer> {
    const all = [
      ...(pod.spec?.containers ?? []),
      ...(pod.spec?.initContainers ?? []),
      ...(pod.spec?.ephemeralContainers ?? []),
    ];
    if (!name || !all.some((c) => c.name === name)) {
      throw new HttpError(404, `container "${name}" not found in pod "${pod.metadata?.name}"`);
    }
    const instances = (await this.o.pods.containers(pod.metadata?.uid ?? '')).filter((c) => c.name === name);
    const c = previous ? instances[1] : instances[0];
    if (!c) {
      throw new HttpError(
        previous ? 400 : 404,
        previous
          ? `previous terminated container "${name}" in pod "${pod.metadata?.name}" not found`
          : `container "${name}" in pod "${pod.metadata?.name}" is waiting to start: ContainerCreating`,
      );
    }
    return c;
  }

  private async containerLogs(parts: string[], q: URLSearchParams, res: ServerResponse): Promise<void> {
    const [, ns, podName, containerName] = parts;
    const pod = this.pod(ns, podName);
    const c = await this.container(pod, containerName, boolParam(q, 'previous'));
    const sinceSeconds = intParam(q, 'sinceSeconds');
    const sinceTime = q.get('sinceTime');
    const tail = q.get('tailLines') ?? q.get('tail');
    const tailLines = tail === null || tail === 'all' ? undefined : Number(tail);
    if (tailLines !== undefined && !Number.isInteger(tailLines))
      throw new HttpError(400, `invalid tailLines: ${JSON.stringify(tail)}`);
    const opts: LogOptions = {
      timestamps: boolParam(q, 'timestamps'),
      tailLines,
      limitBytes: intParam(q, 'limitBytes'),
      sinceMs: sinceTime
        ? Date.parse(sinceTime)
        : sinceSeconds !== undefined
          ? Date.now() - sinceSeconds * 1000
          : undefined,
    };
    // PodLogsQuerySplitStreams is alpha (off): only the whole log can be asked for.
    const stream = q.get('stream');
    if (stream !== null && stream !== 'All') {
      throw new HttpError(
        400,
        `unable to return the given log stream: ${JSON.stringify(stream)}. Please enable PodLogsQuerySplitStreams feature gate in kubelet`,
      );
    }
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    await writeContainerLog(res, {
      logPath: c.logPath,
      options: opts,
      follow: boolParam(q, 'follow'),
      closed: () => closed,
      isRunning: async () => {
        const st = await this.o.cri.containerStatus(c.id).catch(() => undefined);
        return st?.status?.state === 'CONTAINER_RUNNING';
      },
    });
  }

  private async run(
    parts: string[],
    q: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, 'method not allowed');
    const [, ns, podName, a, b] = parts;
    const pod = this.pod(ns, podName, b ? a : undefined);
    const c = await this.container(pod, b ?? a);
    const cmd = (q.get('cmd') ?? '').split(' ').filter(Boolean);
    const out = await this.o.cri.execSync(c.id, cmd, 0);
    send(res, 200, Buffer.concat([out.stdout, out.stderr]).toString('utf8'));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const denied = await this.check(req, url);
    if (denied) {
      writeRaw(
        socket,
        denied.code,
        denied.code === 401 ? 'Unauthorized' : denied.code === 403 ? 'Forbidden' : 'Error',
        `${denied.message}\n`,
      );
      return;
    }
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const kind = parts[0];
    if (kind !== 'exec' && kind !== 'attach' && kind !== 'portForward')
      throw new HttpError(404, '404 page not found');
    this.debugging(kind);
    let target: string;
    if (kind === 'portForward') {
      const [, ns, podName, uid] = parts;
      const pod = this.pod(ns, podName, uid);
      const sandboxes = await this.o.cri.listPodSandbox({
        labelSelector: { 'io.kubernetes.pod.uid': pod.metadata?.uid ?? '' },
        state: { state: 'SANDBOX_READY' },
      });
      const sb = sandboxes[0];
      if (!sb) throw new HttpError(404, `pod "${podName}" has no running sandbox`);
      target = (await this.o.cri.portForward({ podSandboxId: sb.id, port: [] })).url;
    } else {
      const [, ns, podName, a, b] = parts;
      const pod = this.pod(ns, podName, b ? a : undefined);
      const c = await this.container(pod, b ?? a);
      const so = streamOptions(url.searchParams);
      if (typeof so === 'string') throw new HttpError(400, so);
      target =
        kind === 'exec'
          ? (
              await this.o.cri.exec({
                containerId: c.id,
                cmd: so.command,
                tty: so.tty,
                stdin: so.stdin,
                stdout: so.stdout,
                stderr: so.stderr,
              })
            ).url
          : (
              await this.o.cri.attach({
                containerId: c.id,
                tty: so.tty,
                stdin: so.stdin,
                stdout: so.stdout,
                stderr: so.stderr,
              })
            ).url;
    }
    proxyUpgrade(req, socket, head, new URL(target));
  }
}
