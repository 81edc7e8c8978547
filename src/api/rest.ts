import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { onAbort } from '../util/abort.js';
import { TokenBucket } from '../util/rateLimiter.js';
import { ApiError, ApiUnreachableError } from './errors.js';
import type { ClientConfig } from './kubeconfig.js';
import type { Status, WatchEvent } from './types.js';

export type PatchType = 'strategic' | 'merge' | 'json';

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Whole-request timeout; defaults to the client's (30 s). */
  timeoutMs?: number;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** The stream is declared dead when no byte arrives for this long (bookmarks keep it alive). */
  idleTimeoutMs?: number;
}

export interface RestClientOptions {
  userAgent?: string;
  timeoutMs?: number;
  /** Client-side rate limit like kubeAPIQPS / kubeAPIBurst (50 / 100). */
  qps?: number;
  burst?: number;
}

/**
 * A small JSON REST client for the Kubernetes API over node:https, configured from a
 * KubeConfig (client-node resolves certificates, tokens and exec credentials). Objects stay
 * plain JSON (see Wire<T>). Every request has a timeout and honours an AbortSignal; watches have
 * an inactivity watchdog, because a half-open TCP connection otherwise hangs a watch forever.
 */
export class RestClient {
  private constructor(
    private readonly base: URL,
    private tls: https.RequestOptions,
    private agent: http.Agent,
    private readonly opts: Required<RestClientOptions>,
    private readonly bucket: TokenBucket,
  ) {}

  /** From a kubeconfig file read by src/api/kubeconfig.ts (what the kubelet uses). */
  static fromClientConfig(c: ClientConfig, opts: RestClientOptions = {}): RestClient {
    const tls: https.RequestOptions = {
      ca: c.ca,
      cert: c.cert,
      key: c.key,
      rejectUnauthorized: !c.insecureSkipTLSVerify,
      ...(c.tlsServerName ? { servername: c.tlsServerName } : {}),
    };
    const client = RestClient.build(new URL(c.server), tls, opts);
    if (c.token) client.staticToken = c.token;
    if (c.tokenFile) client.tokenFile = c.tokenFile;
    return client;
  }

  /** From client-node's KubeConfig (tests and tools; supports everything client-node does). */
  static async fromKubeConfig(kc: KubeConfig, opts: RestClientOptions = {}): Promise<RestClient> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const tls: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    return RestClient.build(new URL(cluster.server), tls, opts);
  }

  private static agentFor(base: URL, tls: https.RequestOptions): http.Agent {
    const agentOpts = { keepAlive: true, maxSockets: 32, keepAliveMsecs: 30_000 };
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = tls;
    return base.protocol === 'https:'
      ? new https.Agent({ ...agentOpts, ca, cert, key, pfx, passphrase, rejectUnauthorized, servername })
      : new http.Agent(agentOpts);
  }

  private static build(base: URL, tls: https.RequestOptions, opts: RestClientOptions): RestClient {
    const agent = RestClient.agentFor(base, tls);
    const full: Required<RestClientOptions> = {
      userAgent: opts.userAgent ?? 'kubelet-ts',
      timeoutMs: opts.timeoutMs ?? 30_000,
      qps: opts.qps ?? 50,
      burst: opts.burst ?? 100,
    };
    return new RestClient(base, tls, agent, full, new TokenBucket(full.qps, full.burst));
  }

  private staticToken: string | undefined;
  private tokenFile: string | undefined;
  private fileToken: { at: number; value: string } | undefined;

  /** The bearer token to send, if any (a token file is re-read at most once a minute). */
  private bearer(): string | undefined {
    if (this.tokenFile) {
      const now = Date.now();
      if (!this.fileToken || now - this.fileToken.at > 60_000) {
        try {
          this.fileToken = { at: now, value: readFileSync(this.tokenFile, 'utf8').trim() };
        } catch {
          // keep the previous token
        }
      }
      return this.fileToken?.value;
    }
    return this.staticToken;
  }

  get server(): string {
    return this.base.toString();
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * Switches to a rotated client certificate without a restart: new requests use it, and the
   * connections made with the old one are closed (upstream's rotation closes them all, so
   * watches reconnect with the new identity).
   */
  setClientCertificate(cert: Buffer, key: Buffer): void {
    const old = this.agent;
    this.tls = { ...this.tls, cert, key };
    this.agent = RestClient.agentFor(this.base, this.tls);
    old.destroy();
  }

  get<T>(path: string, o: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, o);
  }
  create<T>(path: string, body: unknown, o: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { ...o, body });
  }
  replace<T>(path: string, body: unknown, o: RequestOptions = {}): Promise<T> {
    return this.request<T>('PUT', path, { ...o, body });
  }
  patch<T>(path: string, body: unknown, type: PatchType, o: RequestOptions = {}): Promise<T> {
    return this.request<T>('PATCH', path, { ...o, body, contentType: PATCH_CONTENT_TYPE[type] });
  }
  delete<T>(path: string, body?: unknown, o: RequestOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, { ...o, body });
  }

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    await this.bucket.take();
    const res = await this.send(method, path, o, o.timeoutMs ?? this.opts.timeoutMs);
    const text = await readBody(res);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw apiErrorFrom(code, text, method, path);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * Streams watch events of `path` to `onEvent` until the server ends the stream (resolves), the
   * signal aborts (resolves), or an error occurs (rejects: ApiError, e.g. 410 Expired for a too
   * old resourceVersion, or ApiUnreachableError when the stream went silent).
   */
  async watch<T>(
    path: string,
    query: RequestOptions['query'],
    onEvent: (ev: WatchEvent<T>) => void,
    o: WatchOptions = {},
  ): Promise<void> {
    await this.bucket.take();
    const res = await this.send('GET', path, { query: { ...query, watch: true }, signal: o.signal }, 0);
    const code = res.statusCode ?? 0;
    if (code !== 200) throw apiErrorFrom(code, await readBody(res), 'WATCH', path);
    const idleMs = o.idleTimeoutMs ?? 0;
    return new Promise<void>((resolve, reject) => {
      let buf = '';
      let idle: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (idle) clearTimeout(idle);
        detach();
        res.destroy();
        if (err) reject(err);
        else resolve();
      };
      const arm = () => {
        if (!idleMs) return;
        if (idle) clearTimeout(idle);
        idle = setTimeout(
          () => finish(new ApiUnreachableError(`watch ${path}: no data for ${idleMs} ms`)),
          idleMs,
        );
      };
      const detach = onAbort(o.signal, () => finish());
      arm();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        arm();
        buf += chunk;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch (err) {
            finish(new ApiUnreachableError(`watch ${path}: bad event JSON`, { cause: err }));
            return;
          }
          if (ev.type === 'ERROR') {
            const st = ev.object as unknown as Status;
            finish(new ApiError(st.code ?? 500, st.reason ?? 'Unknown', st.message ?? 'watch error', st));
            return;
          }
          try {
            onEvent(ev);
          } catch (err) {
            finish(err instanceof Error ? err : new Error(String(err)));
            return;
          }
        }
      });
      res.on('end', () => finish());
      res.on('error', (err) => finish(o.signal?.aborted ? undefined : new ApiUnreachableError(err.message)));
      res.on('close', () => finish());
    });
  }

  private send(
    method: string,
    path: string,
    o: RequestOptions,
    timeoutMs: number,
  ): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(o.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers: http.OutgoingHttpHeaders = {
      Accept: 'application/json',
      'User-Agent': this.opts.userAgent,
    };
    // Bearer tokens and other auth headers resolved from the kubeconfig.
    const extra = this.tls.headers;
    if (extra && !Array.isArray(extra)) Object.assign(headers, extra);
    const bearer = this.bearer();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) {
      headers['Content-Type'] = o.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) {
        reject(new ApiUnreachableError(`${method} ${url.pathname}: aborted`));
        return;
      }
      const req = mod.request(url, { method, headers, agent: this.agent }, (res) => {
        detach();
        if (timer) clearTimeout(timer);
        resolve(res);
      });
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs > 0) {
        timer = setTimeout(
          () =>
            req.destroy(
              new ApiUnreachableError(`${method} ${url.pathname}: timed out after ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
      }
      const detach = onAbort(o.signal, () =>
        req.destroy(new ApiUnreachableError(`${method} ${url.pathname}: aborted`)),
      );
      req.on('error', (err) => {
        detach();
        if (timer) clearTimeout(timer);
        reject(
          err instanceof ApiUnreachableError
            ? err
            : new ApiUnreachableError(`${method} ${url.pathname}: ${err.message}`),
        );
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (err) => reject(new ApiUnreachableError(err.message)));
  });
}

function apiErrorFrom(code: number, text: string, method: string, path: string): ApiError {
  try {
    const st = JSON.parse(text) as Status;
    if (st && st.kind === 'Status') {
      return new ApiError(code, st.reason ?? String(code), st.message ?? text, st);
    }
  } catch {
    // not a Status object
  }
  return new ApiError(code, String(code), `${method} ${path}: HTTP ${code}: ${text.slice(0, 200)}`);
}
