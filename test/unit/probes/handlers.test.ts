import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CriError } from '../../../src/cri/errors.js';
import {
  type ExecRunner,
  execProbe,
  grpcProbe,
  type HealthCheckRequest,
  type HealthCheckResponse,
  healthService,
  httpProbe,
  newHttpGetRequest,
  ProbeError,
  resolveContainerPort,
  tcpProbe,
} from '../../../src/probes/index.js';

// The probe handlers against real sockets on 127.0.0.1: what a container would see and what
// upstream reports back.

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
}

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({ close: () => server.close() });
  return { port: (server.address() as net.AddressInfo).port, seen };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const container = { name: 'c', ports: [{ name: 'web', containerPort: 8080 }] };

describe('httpGet probe', () => {
  it('GETs the path with upstream headers and no keep-alive; 2xx is success', async () => {
    const { port, seen } = await serve((_req, res) => res.end('ok'));
    const req = newHttpGetRequest({ port, path: '/healthz?x=1' }, container, '127.0.0.1', 'probe');
    expect(await httpProbe(req, 1000)).toEqual({ outcome: 'success', output: 'ok' });
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/healthz?x=1' });
    expect(seen[0]?.headers).toMatchObject({
      'user-agent': 'kube-probe/1.37',
      accept: '*/*',
      host: `127.0.0.1:${port}`,
      connection: 'close',
    });
    expect(seen[0]?.headers['accept-encoding']).toBeUndefined();
  });

  it('sends spec headers (Host, User-Agent override) and drops an explicitly empty Accept', async () => {
    const { port, seen } = await serve((_req, res) => res.end());
    const req = newHttpGetRequest(
      {
        port,
        httpHeaders: [
          { name: 'host', value: 'example.test' },
          { name: 'user-agent', value: 'mine' },
          { name: 'Accept', value: '' },
          { name: 'x-custom', value: 'a' },
        ],
      },
      container,
      '127.0.0.1',
      'probe',
    );
    await httpProbe(req, 1000);
    expect(seen[0]?.url).toBe('/');
    expect(seen[0]?.headers).toMatchObject({ host: 'example.test', 'user-agent': 'mine', 'x-custom': 'a' });
    expect(seen[0]?.headers.accept).toBeUndefined();
  });

  it('reports non-2xx/3xx as "HTTP probe failed with statuscode"', async () => {
    const { port } = await serve((_req, res) => {
      res.statusCode = 503;
      res.end('secret body');
    });
    const req = newHttpGetRequest({ port, path: '/' }, container, '127.0.0.1', 'probe');
    expect(await httpProbe(req, 1000)).toEqual({
      outcome: 'failure',
      output: 'HTTP probe failed with statuscode: 503',
    });
  });

  it('follows redirects on the same host, and stops with a warning at another host', async () => {
    const { port, seen } = await serve((req, res) => {
      if (req.url === '/a') {
        res.writeHead(302, { location: '/b' });
        res.end();
      } else if (req.url === '/b') {
        res.writeHead(301, { location: `http://localhost:${port}/c` });
        res.end('moved away');
      } else res.end('never');
    });
    const req = newHttpGetRequest({ port, path: '/a' }, container, '127.0.0.1', 'probe');
    expect(await httpProbe(req, 1000)).toEqual({
      outcome: 'warning',
      output: 'Probe terminated redirects, Response body: moved away',
    });
    expect(seen.map((s) => s.url)).toEqual(['/a', '/b']);
    expect(seen[1]?.headers['user-agent']).toBe('kube-probe/1.37');
  });

  it('gives up after 10 redirects', async () => {
    const { port, seen } = await serve((req, res) => {
      const n = Number(req.url?.slice(1) ?? 0);
      res.writeHead(307, { location: `/${n + 1}` });
      res.end();
    });
    const req = newHttpGetRequest({ port, path: '/0' }, container, '127.0.0.1', 'probe');
    expect(await httpProbe(req, 2000)).toEqual({
      outcome: 'failure',
      output: `Get "http://127.0.0.1:${port}/10": stopped after 10 redirects`,
    });
    expect(seen).toHaveLength(10);
  });

  it('fails with Go-style errors on a refused connection and on a timeout', async () => {
    const closed = await closedPort();
    const refused = newHttpGetRequest({ port: closed, path: '/x' }, container, '127.0.0.1', 'probe');
    expect(await httpProbe(refused, 1000)).toEqual({
      outcome: 'failure',
      output: `Get "http://127.0.0.1:${closed}/x": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
    const { port } = await serve(() => {});
    const slow = newHttpGetRequest({ port }, container, '127.0.0.1', 'probe');
    const t0 = Date.now();
    expect(await httpProbe(slow, 300)).toEqual({
      outcome: 'failure',
      output: `Get "http://127.0.0.1:${port}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('reads at most 10 KiB of the body', async () => {
    const { port } = await serve((_req, res) => {
      res.writeHead(302);
      res.end('x'.repeat(50_000));
    });
    const req = newHttpGetRequest({ port }, container, '127.0.0.1', 'probe');
    const r = await httpProbe(req, 1000);
    expect(r.outcome).toBe('warning');
    expect(r.output.length).toBe('Probe terminated redirects, Response body: '.length + 10 * 1024);
  });

  describe('https', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'kts-probe-tls-'));
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=probe-test',
        ]),
        { stdio: 'ignore' },
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('does not verify the certificate', async () => {
      const server = https.createServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => res.end('tls ok'),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push({ close: () => server.close() });
      const port = (server.address() as net.AddressInfo).port;
      const req = newHttpGetRequest({ port, scheme: 'HTTPS' }, container, '127.0.0.1', 'probe');
      expect(await httpProbe(req, 2000)).toEqual({ outcome: 'success', output: 'tls ok' });
    });
  });
});

describe('container ports', () => {
  it('resolves numbers, names and numeric strings like upstream', () => {
    expect(resolveContainerPort(80, container)).toBe(80);
    expect(resolveContainerPort('web', container)).toBe(8080);
    expect(resolveContainerPort('9090', container)).toBe(9090);
    expect(() => resolveContainerPort('http', container)).toThrow(
      new ProbeError('strconv.Atoi: parsing "http": invalid syntax'),
    );
    expect(() => resolveContainerPort(70000, container)).toThrow('invalid port number: 70000');
  });
});

describe('tcpSocket probe', () => {
  it('succeeds when something listens and fails with the dial error otherwise', async () => {
    const s = net.createServer((sock) => sock.end());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    servers.push({ close: () => s.close() });
    const port = (s.address() as net.AddressInfo).port;
    expect(await tcpProbe('127.0.0.1', port, 1000)).toEqual({ outcome: 'success', output: '' });
    const closed = await closedPort();
    expect(await tcpProbe('127.0.0.1', closed, 1000)).toEqual({
      outcome: 'failure',
      output: `dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
  });
});

describe('exec probe', () => {
  const runner = (fn: ExecRunner['execSync']): ExecRunner => ({ execSync: fn });

  it('maps exit codes, output and the runtime timeout like upstream', async () => {
    const calls: unknown[][] = [];
    const ok = runner(async (...args) => {
      calls.push(args.slice(0, 3));
      return { stdout: Buffer.from('out '), stderr: Buffer.from('err'), exitCode: 0 };
    });
    expect(await execProbe(ok, 'cid', ['cat', '/tmp/healthy'], 3)).toEqual({
      outcome: 'success',
      output: 'out err',
    });
    expect(calls).toEqual([['cid', ['cat', '/tmp/healthy'], 3]]);
    const bad = runner(async () => ({ stdout: Buffer.from(''), stderr: Buffer.from('nope\n'), exitCode: 1 }));
    expect(await execProbe(bad, 'cid', ['false'], 1)).toEqual({ outcome: 'failure', output: 'nope\n' });
    const slow = runner(async () => {
      throw new CriError(
        'DeadlineExceeded',
        grpc.status.DEADLINE_EXCEEDED,
        'ExecSync',
        'timeout 1s exceeded',
      );
    });
    expect(await execProbe(slow, 'cid', ['sleep', '5'], 1)).toEqual({
      outcome: 'failure',
      output: 'command "sleep 5" timed out',
    });
    const gone = runner(async () => {
      throw new CriError('NotFound', grpc.status.NOT_FOUND, 'ExecSync', 'container not found');
    });
    await expect(execProbe(gone, 'cid', ['true'], 1)).rejects.toThrow(
      'rpc error: code = NotFound desc = container not found',
    );
  });
});

describe('grpc probe', () => {
  const healthServers: grpc.Server[] = [];
  afterEach(() => {
    for (const s of healthServers.splice(0)) s.forceShutdown();
  });

  async function healthServer(status: (service: string) => HealthCheckResponse['status'] | Error) {
    const server = new grpc.Server();
    server.addService(healthService(), {
      Check: (
        call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
        cb: grpc.sendUnaryData<HealthCheckResponse>,
      ) => {
        const s = status(call.request.service);
        if (s instanceof Error) cb({ code: grpc.status.NOT_FOUND, details: s.message });
        else cb(null, { status: s });
      },
      Watch: () => {},
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    healthServers.push(server);
    return port;
  }

  it('reports SERVING as healthy and anything else with upstream messages', async () => {
    const port = await healthServer((svc) =>
      svc === '' ? 'SERVING' : svc === 'down' ? 'NOT_SERVING' : new Error('unknown service'),
    );
    expect(await grpcProbe('127.0.0.1', port, '', 1)).toEqual({
      outcome: 'success',
      output: 'service healthy',
    });
    expect(await grpcProbe('127.0.0.1', port, 'down', 1)).toEqual({
      outcome: 'failure',
      output: 'service unhealthy (responded with "NOT_SERVING")',
    });
    expect(await grpcProbe('127.0.0.1', port, 'other', 1)).toEqual({
      outcome: 'failure',
      output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
    });
  });

  it('fails for a server without the health service and for no server at all', async () => {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    healthServers.push(server);
    const r = await grpcProbe('127.0.0.1', port, '', 1);
    expect(r.outcome).toBe('failure');
    expect(r.output).toMatch(
      /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /,
    );
    const closed = await closedPort();
    expect(await grpcProbe('127.0.0.1', closed, '', 1)).toEqual({
      outcome: 'failure',
      output: `timeout: failed to connect service "127.0.0.1:${closed}" within 1s: context deadline exceeded`,
    });
  });
});
