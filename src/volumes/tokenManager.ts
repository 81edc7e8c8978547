import type { RestClient } from '../api/rest.js';

export interface TokenKey {
  namespace: string;
  serviceAccount: string;
  audiences: string[];
  expirationSeconds: number;
  podName: string;
  podUid: string;
}

interface Entry {
  token: string;
  issuedAt: number;
  expiresAt: number;
  refreshAt: number;
}

interface TokenRequestStatus {
  status?: { token?: string; expirationTimestamp?: string };
}

const DAY = 24 * 3600 * 1000;

/**
 * Service-account tokens from the TokenRequest API, bound to the pod (upstream token manager):
 * cached per (sa, ns, audiences, expiration, pod); refreshed after 80 % of the TTL or 24 h (minus
 * a 0–10 s jitter); on refresh failure the old token is used until it expires.
 */
export class TokenManager {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly rest: RestClient,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  async getToken(k: TokenKey, signal?: AbortSignal): Promise<string> {
    const key = JSON.stringify([k.namespace, k.serviceAccount, k.audiences, k.expirationSeconds, k.podUid]);
    const cur = this.cache.get(key);
    const now = this.now();
    if (cur && now < cur.refreshAt) return cur.token;
    try {
      const res = await this.rest.create<TokenRequestStatus>(
        `/api/v1/namespaces/${k.namespace}/serviceaccounts/${k.serviceAccount}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: k.audiences,
            expirationSeconds: k.expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: k.podName, uid: k.podUid },
          },
        },
        { signal },
      );
      const token = res.status?.token;
      if (!token) throw new Error('TokenRequest returned no token');
      const expiresAt = res.status?.expirationTimestamp
        ? Date.parse(res.status.expirationTimestamp)
        : now + k.expirationSeconds * 1000;
      const ttl = expiresAt - now;
      const jitter = Math.random() * 10_000;
      const refreshAt = Math.min(now + ttl * 0.8, now + DAY) - jitter;
      this.cache.set(key, { token, issuedAt: now, expiresAt, refreshAt });
      if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
      return token;
    } catch (err) {
      if (cur && now < cur.expiresAt) return cur.token;
      throw err;
    }
  }

  /** Drops tokens of pods that are gone and expired entries. */
  forgetPod(podUid: string): void {
    for (const [key, e] of this.cache) {
      if (key.includes(`"${podUid}"`) || e.expiresAt < this.now()) this.cache.delete(key);
    }
  }
}
