import { describe, expect, it } from 'vitest';
import type { RestClient } from '../../../src/api/rest.js';
import { type TokenKey, TokenManager } from '../../../src/volumes/tokenManager.js';

// The token manager against upstream pkg/kubelet/token: TokenRequest bound to the pod, cached
// per (sa, ns, audiences, expiration, pod), refreshed after 80 % of the TTL (or 24 h), the old
// token kept while it is valid if a refresh fails.

interface Call {
  path: string;
  body: { spec: Record<string, unknown> };
}

function fakeRest(now: () => number) {
  const calls: Call[] = [];
  let fail: Error | undefined;
  const rest = {
    create: async (path: string, body: Call['body']) => {
      calls.push({ path, body });
      if (fail) throw fail;
      const exp = body.spec.expirationSeconds as number;
      return {
        status: {
          token: `t${calls.length}`,
          expirationTimestamp: new Date(now() + exp * 1000).toISOString(),
        },
      };
    },
  } as unknown as RestClient;
  return { rest, calls, failWith: (e: Error | undefined) => (fail = e) };
}

const key = (over: Partial<TokenKey> = {}): TokenKey => ({
  namespace: 'ns1',
  serviceAccount: 'default',
  audiences: [],
  expirationSeconds: 3600,
  podName: 'p',
  podUid: 'uid-1',
  ...over,
});

describe('TokenManager', () => {
  it('requests a token bound to the pod, with audiences and expiration', async () => {
    const t = Date.UTC(2026, 0, 1);
    const { rest, calls } = fakeRest(() => t);
    const tm = new TokenManager(rest, () => t);
    expect(await tm.getToken(key({ audiences: ['vault'], expirationSeconds: 7200 }))).toBe('t1');
    expect(calls).toEqual([
      {
        path: '/api/v1/namespaces/ns1/serviceaccounts/default/token',
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: ['vault'],
            expirationSeconds: 7200,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'uid-1' },
          },
        },
      },
    ]);
  });

  it('caches per key and refreshes after 80 % of the TTL', async () => {
    let t = Date.UTC(2026, 0, 1);
    const { rest, calls } = fakeRest(() => t);
    const tm = new TokenManager(rest, () => t);
    expect(await tm.getToken(key())).toBe('t1');
    t += 2000 * 1000; // 55 % of an hour
    expect(await tm.getToken(key())).toBe('t1');
    expect(await tm.getToken(key({ audiences: ['other'] }))).toBe('t2');
    expect(await tm.getToken(key({ podUid: 'uid-2' }))).toBe('t3');
    t += 900 * 1000; // 80.5 % of the first token's hour
    expect(await tm.getToken(key())).toBe('t4');
    expect(calls).toHaveLength(4);
  });

  it('keeps the old token while it is valid if a refresh fails; then the error', async () => {
    let t = Date.UTC(2026, 0, 1);
    const { rest, failWith } = fakeRest(() => t);
    const tm = new TokenManager(rest, () => t);
    expect(await tm.getToken(key())).toBe('t1');
    failWith(new Error('apiserver down'));
    t += 3000 * 1000;
    expect(await tm.getToken(key())).toBe('t1');
    t += 700 * 1000; // expired
    await expect(tm.getToken(key())).rejects.toThrow('apiserver down');
  });

  it('forgetPod drops the tokens of that pod', async () => {
    const t = Date.UTC(2026, 0, 1);
    const { rest, calls } = fakeRest(() => t);
    const tm = new TokenManager(rest, () => t);
    await tm.getToken(key());
    tm.forgetPod('uid-1');
    await tm.getToken(key());
    expect(calls).toHaveLength(2);
  });
});
