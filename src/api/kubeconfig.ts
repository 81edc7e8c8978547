import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

/** What the REST client needs from a kubeconfig: where, and with which credentials. */
export interface ClientConfig {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** A static bearer token. */
  token?: string;
  /** A bearer token file, re-read so rotated tokens are picked up. */
  tokenFile?: string;
  insecureSkipTLSVerify: boolean;
  tlsServerName?: string;
}

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

interface Named<T> {
  name?: string;
  cluster?: T;
  user?: T;
  context?: T;
}
interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}
interface RawUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
}
interface RawConfig {
  clusters?: Named<RawCluster>[];
  users?: Named<RawUser>[];
  contexts?: Named<{ cluster?: string; user?: string }>[];
  'current-context'?: string;
}

/**
 * Reads a kubeconfig (the subset a node agent uses: client certificates, bearer tokens and token
 * files, CA data or files, relative paths resolved against the file's directory). The kubelet
 * does not load @kubernetes/client-node at run time: its KubeConfig pulls in the whole generated
 * API (~75 MiB of resident memory) for what is a few fields of YAML. Exec plugins and auth
 * providers are refused with a clear error.
 */
export function loadKubeconfig(path: string, context?: string): ClientConfig {
  let raw: RawConfig;
  try {
    raw = (parse(readFileSync(path, 'utf8')) ?? {}) as RawConfig;
  } catch (err) {
    throw new KubeconfigError(`cannot read kubeconfig ${path}: ${(err as Error).message}`);
  }
  const base = dirname(path);
  const file = (p: string) => readFileSync(isAbsolute(p) ? p : resolve(base, p));
  const ctxName = context ?? raw['current-context'];
  const ctx = raw.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx)
    throw new KubeconfigError(`kubeconfig ${path}: context ${JSON.stringify(ctxName ?? '')} not found`);
  const cluster = raw.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster?.server)
    throw new KubeconfigError(
      `kubeconfig ${path}: cluster ${JSON.stringify(ctx.cluster ?? '')} has no server`,
    );
  const user = raw.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user.exec || user['auth-provider']) {
    throw new KubeconfigError(
      `kubeconfig ${path}: exec plugins and auth providers are not supported; use a client certificate or a token`,
    );
  }
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const out: ClientConfig = {
    server: cluster.server,
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
  };
  try {
    if (cluster['certificate-authority-data']) out.ca = b64(cluster['certificate-authority-data']);
    else if (cluster['certificate-authority']) out.ca = file(cluster['certificate-authority']);
    if (cluster['tls-server-name']) out.tlsServerName = cluster['tls-server-name'];
    if (user['client-certificate-data']) out.cert = b64(user['client-certificate-data']);
    else if (user['client-certificate']) out.cert = file(user['client-certificate']);
    if (user['client-key-data']) out.key = b64(user['client-key-data']);
    else if (user['client-key']) out.key = file(user['client-key']);
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path}: ${(err as Error).message}`);
  }
  if (user.token) out.token = user.token;
  if (user.tokenFile)
    out.tokenFile = isAbsolute(user.tokenFile) ? user.tokenFile : resolve(base, user.tokenFile);
  return out;
}
