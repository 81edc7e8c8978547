/**
 * PURE: the authorization attributes of a kubelet API request (upstream server/auth.go
 * GetRequestAttributes): verb from the HTTP method, subresource from the path prefix, resource
 * "nodes" named after this node.
 */
export interface RequestAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  name: string;
  path: string;
}

const VERBS: Record<string, string> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export function requestAttributes(method: string, path: string, nodeName: string): RequestAttributes {
  const verb = VERBS[method.toUpperCase()] ?? method.toLowerCase();
  const p = path.split('?')[0] ?? '/';
  const is = (prefix: string) => p === prefix || p.startsWith(`${prefix}/`);
  let subresource = 'proxy';
  if (is('/stats')) subresource = 'stats';
  else if (is('/metrics')) subresource = 'metrics';
  else if (is('/logs')) subresource = 'log';
  else if (is('/checkpoint')) subresource = 'checkpoint';
  return { verb, resource: 'nodes', subresource, name: nodeName, path: p };
}

/** Upstream's denial text: "Forbidden (user=%s, verb=%s, resource=%s, subresource(s)=%v)". */
export function forbiddenMessage(user: string, a: RequestAttributes): string {
  return `Forbidden (user=${user}, verb=${a.verb}, resource=${a.resource}, subresource(s)=[${a.subresource}])\n`;
}
