import * as http from 'node:http';
import * as https from 'node:https';
import { isIPv6 } from 'node:net';
import { onAbort } from '../util/abort.js';
import { errorMessage } from '../util/errors.js';
import { ProbeError } from './errors.js';
import { dialErrorText, joinHostPort, resolveContainerPort } from './net.js';
import { type HttpGetAction, KUBE_MINOR_VERSION, type ProbeContainer, type ProbeOutcome } from './types.js';

/** Upstream maxRespBodyLength: the body is read up to 10 KiB. */
export const MAX_BODY_BYTES = 10 * 1024;
const MAX_REDIRECTS = 10;
// Shared agents without keep-alive: every probe opens and closes its own connection (upstream
// DisableKeepAlives), without building an agent per request.
const httpAgent = new http.Agent({ keepAlive: false });
const httpsAgent = new https.Agent({ keepAlive: false, rejectUnauthorized: false, maxCachedSessions: 0 });
const FOLLOWED_REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A GET as upstream NewRequestForHTTPGetAction builds it. */
export interface HttpGetRequest {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** Path and query as given ('' means "/"). */
  path: string;
  /** Canonical header names (Go textproto) and values, in spec order; may repeat. */
  headers: [string, string][];
}

export interface HttpResponse {
  status: number;
  location: string | undefined;
  /** At most MAX_BODY_BYTES of the body. */
  body: string;
}

/** Go's textproto.CanonicalMIMEHeaderKey: "content-type" → "Content-Type". */
export function canonicalHeaderKey(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return name;
  return name
    .split('-')
    .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1).toLowerCase() : p))
    .join('-');
}

/**
 * The request of an httpGet probe or hook (upstream NewRequestForHTTPGetAction): scheme
 * lower-cased (default http), host defaulting to the pod IP, port by number or by container
 * port name, spec headers, then `User-Agent: kube-<purpose>/1.37` and `Accept: *\/*` unless
 * given (an explicitly empty Accept removes it). Throws for an unresolvable port.
 */
export function newHttpGetRequest(
  action: HttpGetAction,
  container: ProbeContainer,
  podIP: string,
  purpose: 'probe' | 'lifecycle',
): HttpGetRequest {
  const scheme = (action.scheme ?? '').toLowerCase() === 'https' ? 'https' : 'http';
  const host = action.host || podIP;
  const port = resolveContainerPort(action.port, container);
  const headers: [string, string][] = (action.httpHeaders ?? []).map((h) => [
    canonicalHeaderKey(h.name),
    h.value,
  ]);
  const has = (k: string) => headers.some(([n]) => n === k);
  if (!has('User-Agent')) headers.push(['User-Agent', `kube-${purpose}/${KUBE_MINOR_VERSION}`]);
  if (!has('Accept')) headers.push(['Accept', '*/*']);
  else if (headers.find(([n]) => n === 'Accept')?.[1] === '') {
    for (let i = headers.length - 1; i >= 0; i--) if (headers[i]?.[0] === 'Accept') headers.splice(i, 1);
  }
  return { scheme, host, port, path: action.path ?? '', headers };
}

/** The URL as Go prints it in errors: scheme://host:port/path. */
export function requestUrl(r: Pick<HttpGetRequest, 'scheme' | 'host' | 'port' | 'path'>): string {
  const path = r.path && !r.path.startsWith('/') ? `/${r.path}` : r.path;
  return `${r.scheme}://${joinHostPort(r.host, r.port)}${path}`;
}

/** The request target (path + query), escaped like Go's URL.RequestURI. */
function requestUri(path: string): string {
  if (!path) return '/';
  try {
    const u = new URL(path.startsWith('/') ? path : `/${path}`, 'http://x');
    return `${u.pathname}${u.search}`;
  } catch {
    return path.startsWith('/') ? path : `/${path}`;
  }
}

class Timeout extends Error {}

interface Deadline {
  signal: AbortSignal;
  /** Headers arrived: a timeout now happens while reading the body. */
  phase: 'headers' | 'body';
}

function once(req: HttpGetRequest, hostHeader: string | undefined, d: Deadline): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of req.headers) {
      if (k === 'Host') continue;
      const prev = headers[k];
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    headers.Host = hostHeader || joinHostPort(req.host, req.port);
    const options: https.RequestOptions = {
      host: req.host,
      port: req.port,
      method: 'GET',
      path: requestUri(req.path),
      headers,
      // A fresh connection per probe: no keep-alive, no proxy, no compression (upstream).
      agent: req.scheme === 'https' ? httpsAgent : httpAgent,
      rejectUnauthorized: false,
    };
    if (req.scheme === 'https' && !isIPv6(req.host) && !/^\d+\.\d+\.\d+\.\d+$/.test(req.host)) {
      options.servername = req.host;
    }
    let settled = false;
    let detach = () => {};
    const finish = (err: unknown, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      detach();
      if (err) reject(err);
      else resolve(res as HttpResponse);
    };
    const mod = req.scheme === 'https' ? https : http;
    let r: http.ClientRequest;
    try {
      r = mod.request(options, (res) => {
        d.phase = 'body';
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const body = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
          finish(undefined, { status: res.statusCode ?? 0, location: res.headers.location, body });
          res.destroy();
        };
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (size >= MAX_BODY_BYTES) done();
        });
        res.on('end', done);
        res.on('error', (e) => finish(e));
        res.on('close', () => finish(new Error('unexpected EOF')));
      });
    } catch (err) {
      finish(err);
      return;
    }
    detach = onAbort(d.signal, () => {
      r.destroy(new Timeout());
      finish(new Timeout());
    });
    r.on('error', (e) => finish(e));
    r.end();
  });
}

/**
 * Performs an httpGet like Go's http.Client with upstream's redirect checker: redirects to the
 * same host name are followed (at most 10), a redirect to another host ends with the 3xx
 * response. Throws ProbeError with Go-style text (`Get "<url>": ...`).
 */
export async function doHttpGet(
  req: HttpGetRequest,
  opts: { timeoutMs?: number; signal?: AbortSignal },
): Promise<HttpResponse> {
  const ac = new AbortController();
  const d: Deadline = { signal: ac.signal, phase: 'headers' };
  let timedOut = false;
  const timer =
    opts.timeoutMs !== undefined && opts.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          ac.abort();
        }, opts.timeoutMs)
      : undefined;
  const detach = onAbort(opts.signal, () => ac.abort());
  const firstHost = req.host;
  const customHost = req.headers.find(([k]) => k === 'Host')?.[1];
  let current = req;
  let hostHeader = customHost;
  try {
    for (let hops = 0; ; hops++) {
      let res: HttpResponse;
      try {
        d.phase = 'headers';
        res = await once(current, hostHeader, d);
      } catch (err) {
        const url = requestUrl(current);
        if (err instanceof Timeout) {
          if (!timedOut) throw new ProbeError(`Get ${JSON.stringify(url)}: context canceled`, 'failure');
          if (d.phase === 'body') {
            throw new ProbeError(
              'context deadline exceeded (Client.Timeout or context cancellation while reading body)',
              'failure',
            );
          }
          throw new ProbeError(
            `Get ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
            'failure',
          );
        }
        throw new ProbeError(
          `Get ${JSON.stringify(url)}: ${dialErrorText(err, joinHostPort(current.host, current.port))}`,
          'failure',
          { cause: err },
        );
      }
      if (!FOLLOWED_REDIRECTS.has(res.status) || !res.location) return res;
      let next: URL;
      try {
        next = new URL(res.location, requestUrl(current) || 'http://x/');
      } catch {
        return res;
      }
      const scheme = next.protocol === 'https:' ? 'https' : next.protocol === 'http:' ? 'http' : undefined;
      if (!scheme) return res;
      const hostname = next.hostname.replace(/^\[|\]$/g, '');
      if (hostname !== firstHost) return res;
      if (hops + 1 >= MAX_REDIRECTS) {
        throw new ProbeError(`Get ${JSON.stringify(next.href)}: stopped after 10 redirects`, 'failure');
      }
      const relative = !/^[a-z][a-z0-9+.-]*:/i.test(res.location) && !res.location.startsWith('//');
      hostHeader = customHost && relative ? customHost : undefined;
      current = {
        ...current,
        scheme,
        host: hostname,
        port: next.port ? Number(next.port) : scheme === 'https' ? 443 : 80,
        path: `${next.pathname}${next.search}`,
      };
    }
  } finally {
    if (timer) clearTimeout(timer);
    detach();
  }
}

/**
 * An HTTP probe (upstream pkg/probe/http DoHTTPProbe): 2xx → success with the body; 3xx (a
 * redirect that was not followed) → warning "Probe terminated redirects, Response body: ...";
 * otherwise failure "HTTP probe failed with statuscode: N". Connection errors and timeouts
 * are failures with the error text.
 */
export async function httpProbe(
  req: HttpGetRequest,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ outcome: ProbeOutcome; output: string }> {
  let res: HttpResponse;
  try {
    res = await doHttpGet(req, { timeoutMs, signal });
  } catch (err) {
    if (err instanceof ProbeError && err.message.startsWith('context deadline exceeded (Client.Timeout or')) {
      throw err;
    }
    return { outcome: 'failure', output: errorMessage(err) };
  }
  if (res.status >= 200 && res.status < 400) {
    if (res.status >= 300) {
      return { outcome: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
    }
    return { outcome: 'success', output: res.body };
  }
  return { outcome: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
}
