/**
 * PURE: the authorization attributes of a kubelet API request (upstream pkg/kubelet/server/auth.go
 * GetRequestAttributes at v1.37, KubeletFineGrainedAuthz GA and locked on): the verb from the HTTP
 * method, resource "nodes" named after this node, and one attribute per subresource to try in
 * order — the fine-grained one first (`healthz`, `pods`, `configz`), then the coarse one
 * (`stats`, `metrics`, `log`, `checkpoint`, `statusz`, `configz` for /flagz, else `proxy`).
 */
export interface RequestAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  name: string;
  path: string;
}

/** Upstream maps these five methods; any other (HEAD, OPTIONS, …) gets the empty verb. */
const VERBS: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** Upstream isSubpath: `path` (a trailing slash ignored) equals `subpath` or is a parent of it. */
export function isSubpath(subpath: string, path: string): boolean {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  return subpath === p || (subpath.startsWith(p) && subpath[p.length] === '/');
}

// Upstream's handler paths (server.go, healthz, configz, statusz, flagz).
const allocatedPodsPath = '/allocatedPods';
const podsPath = '/pods';
const healthzPath = '/healthz';
const configzPath = '/configz';
const runningPodsPath = '/runningpods/';
const statsPath = '/stats/';
const metricsPath = '/metrics';
const logsPath = '/logs/';
const checkpointPath = '/checkpoint/';
const statuszPath = '/statusz';
const flagzPath = '/flagz';

/** The subresources to check for a request path, most specific first. */
export function requestSubresources(path: string): string[] {
  const out: string[] = [];
  const is = (prefix: string) => isSubpath(path, prefix);
  if (is(allocatedPodsPath) || is(podsPath)) out.push('pods');
  else if (is(healthzPath)) out.push('healthz');
  else if (is(configzPath)) out.push('configz');
  else if (is(runningPodsPath)) out.push('pods');

  if (is(statsPath)) out.push('stats');
  else if (is(metricsPath)) out.push('metrics');
  else if (is(logsPath)) out.push('log');
  else if (is(checkpointPath)) out.push('checkpoint');
  else if (is(statuszPath)) out.push('statusz');
  else if (is(flagzPath)) out.push('configz');
  else out.push('proxy');
  return out;
}

/** One attribute per subresource; the request is allowed when any of them is (in order). */
export function requestAttributes(method: string, path: string, nodeName: string): RequestAttributes[] {
  const verb = VERBS[method] ?? '';
  const p = path.split('?')[0] ?? '/';
  return requestSubresources(p).map((subresource) => ({
    verb,
    resource: 'nodes',
    subresource,
    name: nodeName,
    path: p,
  }));
}

/**
 * Upstream's denial text: "Forbidden (user=%s, verb=%s, resource=%s, subresource(s)=%v)" with
 * every subresource tried, as Go prints a []string (`[healthz proxy]`).
 */
export function forbiddenMessage(user: string, attrs: readonly RequestAttributes[]): string {
  const a = attrs[0];
  const subs = attrs.map((x) => x.subresource).join(' ');
  return `Forbidden (user=${user}, verb=${a?.verb ?? ''}, resource=${a?.resource ?? 'nodes'}, subresource(s)=[${subs}])\n`;
}
