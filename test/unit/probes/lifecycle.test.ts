import * as http from 'node:http';
import type * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ExecRunner, LifecycleHandlerRunner, type ProbePod } from '../../../src/probes/index.js';

// postStart / preStop handlers: what runs, and upstream's failure messages.

const pod: ProbePod = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } };
const container = { name: 'app', ports: [{ name: 'admin', containerPort: 1 }] };

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('lifecycle handlers', () => {
  it('runs exec hooks without a timeout and reports a non-zero exit like upstream', async () => {
    const seen: unknown[][] = [];
    const exec: ExecRunner = {
      execSync: async (id, cmd, timeout, o) => {
        seen.push([id, cmd, timeout, o?.timeoutMs]);
        return cmd[0] === 'ok'
          ? { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 }
          : { stdout: Buffer.from('out\n'), stderr: Buffer.from('boom'), exitCode: 2 };
      },
    };
    const r = new LifecycleHandlerRunner({ exec });
    const base = { pod, container, containerId: 'cid', podIPs: ['10.0.0.1'] };
    expect(await r.run({ ...base, handler: { exec: { command: ['ok'] } } })).toEqual({ ok: true });
    expect(await r.run({ ...base, handler: { exec: { command: ['sh', '-c', 'exit 2'] } } })).toEqual({
      ok: false,
      message:
        'Exec lifecycle hook ([sh -c exit 2]) for Container "app" in Pod "web_ns(u1)" failed - error: ' +
        'command \'sh -c exit 2\' exited with 2: boom, message: "out\\nboom"',
    });
    expect(seen[0]).toEqual(['cid', ['ok'], 0, 0]);
  });

  it('ignores the HTTP status of an httpGet hook but fails on connection errors', async () => {
    const paths: string[] = [];
    const server = http.createServer((req, res) => {
      paths.push(`${req.url} ${req.headers['user-agent']}`);
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const port = (server.address() as net.AddressInfo).port;
    const r = new LifecycleHandlerRunner({ exec: { execSync: async () => Promise.reject(new Error('no')) } });
    const base = { pod, container, containerId: 'cid', podIPs: ['127.0.0.1'] };
    expect(await r.run({ ...base, handler: { httpGet: { port, path: '/quit' } } })).toEqual({ ok: true });
    expect(paths).toEqual(['/quit kube-lifecycle/1.37']);
    const failed = await r.run({ ...base, handler: { httpGet: { port: 'admin', path: '/quit' } } });
    expect(failed).toEqual({
      ok: false,
      message:
        'HTTP lifecycle hook (/quit) for Container "app" in Pod "web_ns(u1)" failed - error: ' +
        'Get "http://127.0.0.1:1/quit": dial tcp 127.0.0.1:1: connect: connection refused',
    });
  });

  it('retries an HTTPS hook answered in plain HTTP over HTTP, with a LifecycleHTTPFallback event', async () => {
    const server = http.createServer((_req, res) => res.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const port = (server.address() as net.AddressInfo).port;
    const events: string[] = [];
    const r = new LifecycleHandlerRunner({
      exec: { execSync: async () => Promise.reject(new Error('no')) },
      events: {
        event: (ref, type, reason, message) => events.push(`${ref.name} ${type} ${reason}: ${message}`),
      },
    });
    const out = await r.run({
      pod,
      container,
      containerId: 'cid',
      podIPs: ['127.0.0.1'],
      handler: { httpGet: { port, scheme: 'HTTPS' } },
    });
    expect(out).toEqual({ ok: true });
    expect(events).toEqual([
      `web Warning LifecycleHTTPFallback: request to HTTPS lifecycle hook 127.0.0.1:${port} got HTTP response, retry with HTTP succeeded`,
    ]);
  });

  it('sleeps, and fails when the container goes away first', async () => {
    const r = new LifecycleHandlerRunner({ exec: { execSync: async () => Promise.reject(new Error('no')) } });
    const base = { pod, container, containerId: 'cid', podIPs: [] };
    const t0 = Date.now();
    expect(await r.run({ ...base, handler: { sleep: { seconds: 0.2 } } })).toEqual({ ok: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect(await r.run({ ...base, handler: { sleep: { seconds: 30 } } }, ac.signal)).toEqual({
      ok: false,
      message:
        'Sleep lifecycle hook (30) for Container "app" in Pod "web_ns(u1)" failed - error: container terminated before sleep hook finished',
    });
    expect(await r.run({ ...base, handler: { tcpSocket: { port: 80 } } })).toMatchObject({ ok: false });
  });
});
