import type { TLSSocket } from 'node:tls';
import type { RestClient } from '../api/rest.js';
import { errorMessage } from '../util/errors.js';
import type { RequestAttributes } from './attributes.js';

export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

interface TokenReviewStatus {
  status?: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    error?: string;
  };
}
interface SarStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** A small TTL cache with a size bound (oldest entries dropped first). */
class TtlCache<V> {
  private readonly m = new Map<string, { v: V; until: number }>();
  constructor(private readonly max = 4096) {}
  get(k: string, now: number): V | undefined {
    const e = this.m.get(k);
    if (!e) return undefined;
    if (e.until < now) {
      this.m.delete(k);
      return undefined;
    }
    return e.v;
  }
  set(k: string, v: V, ttlMs: number, now: number): void {
    this.m.delete(k);
    this.m.set(k, { v, until: now + ttlMs });
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string);
  }
}

export interface AuthOptions {
  rest: RestClient;
  anonymous: boolean;
  /** x509 client certificates are accepted when the TLS layer verified them against the client CA. */
  x509: boolean;
  webhookAuthn: boolean;
  authnCacheTtlMs: number;
  authorizationMode: 'AlwaysAllow' | 'Webhook';
  allowTtlMs: number;
  denyTtlMs: number;
  now?: () => number;
}

export type AuthnResult = { ok: true; user: UserInfo } | { ok: false };
export type AuthzResult = { allowed: true } | { allowed: false; reason: string; error?: boolean };

/**
 * The kubelet API's delegated authentication (client certificate or TokenReview of a bearer
 * token) and authorization (SubjectAccessReview), with upstream's cache lifetimes.
 */
export class KubeletAuth {
  private readonly tokens = new TtlCache<UserInfo | null>();
  private readonly decisions = new TtlCache<AuthzResult>();
  private readonly now: () => number;

  constructor(private readonly o: AuthOptions) {
    this.now = o.now ?? Date.now;
  }

  async authenticate(socket: TLSSocket | undefined, authorization: string | undefined): Promise<AuthnResult> {
    if (this.o.x509 && socket?.authorized) {
      const cert = socket.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn) {
        const o = cert.subject.O;
        const groups = Array.isArray(o) ? o : o ? [o] : [];
        return {
          ok: true,
          user: { name: Array.isArray(cn) ? (cn[0] ?? '') : cn, groups: [...groups, 'system:authenticated'] },
        };
      }
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (m && this.o.webhookAuthn) {
      const token = m[1]!;
      const now = this.now();
      const cached = this.tokens.get(token, now);
      if (cached !== undefined) return cached ? { ok: true, user: cached } : { ok: false };
      try {
        const res = await this.o.rest.create<TokenReviewStatus>(
          '/apis/authentication.k8s.io/v1/tokenreviews',
          {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenReview',
            spec: { token },
          },
        );
        const u = res.status?.authenticated ? res.status.user : undefined;
        const user: UserInfo | null = u?.username
          ? { name: u.username, groups: u.groups ?? [], uid: u.uid, extra: u.extra }
          : null;
        this.tokens.set(token, user, this.o.authnCacheTtlMs, now);
        return user ? { ok: true, user } : { ok: false };
      } catch {
        return { ok: false };
      }
    }
    if (this.o.anonymous)
      return { ok: true, user: { name: 'system:anonymous', groups: ['system:unauthenticated'] } };
    return { ok: false };
  }

  async authorize(user: UserInfo, a: RequestAttributes): Promise<AuthzResult> {
    if (this.o.authorizationMode === 'AlwaysAllow') return { allowed: true };
    const now = this.now();
    const key = JSON.stringify([user.name, user.groups, a.verb, a.subresource, a.name]);
    const cached = this.decisions.get(key, now);
    if (cached) return cached;
    try {
      const res = await this.o.rest.create<SarStatus>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.name,
          groups: user.groups,
          uid: user.uid,
          extra: user.extra,
          resourceAttributes: {
            verb: a.verb,
            resource: a.resource,
            subresource: a.subresource,
            name: a.name,
            group: '',
            version: 'v1',
          },
        },
      });
      const allowed = res.status?.allowed === true;
      const out: AuthzResult = allowed
        ? { allowed: true }
        : { allowed: false, reason: res.status?.reason ?? '' };
      this.decisions.set(key, out, allowed ? this.o.allowTtlMs : this.o.denyTtlMs, now);
      return out;
    } catch (err) {
      return { allowed: false, reason: errorMessage(err), error: true };
    }
  }
}
