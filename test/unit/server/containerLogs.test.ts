import { writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { writeContainerLog } from '../../../src/server/containerLogs.js';
import { type ServerFixture, startServer } from './fixture.js';

// GET /containerLogs as upstream's kubelet serves it (getContainerLogs writing through a
// flushwriter): chunked text, each write flushed, so the terminating zero-length chunk goes out
// in a TLS record of its own. The apiserver's websocket log reader (wsstream) drops the bytes
// of a read that also returns EOF, which Go's chunked reader does when the terminator is in the
// same TLS record as the last bytes: "Pods should support retrieving logs from the container
// over websockets" then reads nothing.

const LOG = [
  '2026-12-03T11:06:24.100000000Z stdout F container is alive',
  '2026-12-03T11:06:25.100000000Z stderr P par',
  '2026-12-03T11:06:25.200000000Z stderr F tial',
  '',
].join('\n');

let dir: string;
let port: number;
let fx: ServerFixture;

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { containers: [{ name: 'main', image: 'busybox' }] },
};

beforeAll(async () => {
  fx = await startServer((d) => ({
    pods: {
      list: () => [pod],
      find: (ns, name) => (ns === 'ns' && name === 'p' ? pod : undefined),
      containers: async () => [{ id: 'c1', name: 'main', state: 'running', logPath: join(d, '0.log') }],
    },
  }));
  dir = fx.dir;
  port = fx.port;
  writeFileSync(join(dir, '0.log'), LOG);
});

afterAll(() => fx?.close());

/** A raw HTTP/1.1 exchange over TLS; returns what each TLS read delivered (one record each). */
function rawTls(head: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const reads: string[] = [];
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => s.write(head));
    s.on('data', (d: Buffer) => reads.push(d.toString('utf8')));
    s.on('end', () => resolve(reads));
    s.on('error', reject);
  });
}

/** The de-chunked body of a raw HTTP/1.1 response. */
function body(raw: string): string {
  let rest = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  let out = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

describe('GET /containerLogs', () => {
  it('sends the log text, then the terminating chunk in a TLS record of its own', async () => {
    const reads = await rawTls(
      'GET /containerLogs/ns/p/main HTTP/1.1\r\nHost: kubelet\r\nConnection: close\r\n\r\n',
    );
    const raw = reads.join('');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw).toMatch(/\r\nTransfer-Encoding: chunked\r\n/i);
    expect(body(raw)).toBe('container is alive\npartial\n');
    expect(reads.at(-1)).toBe('0\r\n\r\n');
  });

  it('answers a websocket upgrade GET with the ordinary response, as upstream (no hijack)', async () => {
    const reads = await rawTls(
      [
        'GET /containerLogs/ns/p/main?stream=All HTTP/1.1',
        'Host: kubelet',
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Protocol: binary.k8s.io',
        '',
        '',
      ].join('\r\n'),
    );
    const raw = reads.join('');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(body(raw)).toBe('container is alive\npartial\n');
  });

  it('refuses a single stream while PodLogsQuerySplitStreams is off, as upstream', async () => {
    const reads = await rawTls(
      'GET /containerLogs/ns/p/main?stream=Stdout HTTP/1.1\r\nHost: kubelet\r\nConnection: close\r\n\r\n',
    );
    const raw = reads.join('');
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(raw).toContain(
      'unable to return the given log stream: "Stdout". Please enable PodLogsQuerySplitStreams feature gate in kubelet',
    );
  });

  it('still refuses an exec request that is not an upgrade', async () => {
    const reads = await rawTls(
      'GET /exec/ns/p/main?command=ls HTTP/1.1\r\nHost: kubelet\r\nConnection: close\r\n\r\n',
    );
    expect(reads.join('')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Upgrade request required/);
  });
});

describe('writeContainerLog', () => {
  /** Serves one writeContainerLog call on a plain HTTP server and returns the body. */
  async function serveOnce(stream: Omit<Parameters<typeof writeContainerLog>[1], 'closed'>): Promise<string> {
    const srv = createServer((_req, res) => {
      let closed = false;
      res.on('close', () => {
        closed = true;
      });
      void writeContainerLog(res, { ...stream, closed: () => closed });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      return await new Promise<string>((resolve, reject) => {
        request({ port: (srv.address() as AddressInfo).port, host: '127.0.0.1', path: '/' }, (res) => {
          let out = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            out += d;
          });
          res.on('end', () => resolve(out));
        })
          .on('error', reject)
          .end();
      });
    } finally {
      srv.close();
    }
  }

  it('follows a growing log until the container stops running', async () => {
    const path = join(dir, 'follow.log');
    writeFileSync(path, '2026-12-03T11:00:00.000000000Z stdout F one\n');
    let running = true;
    setTimeout(() => void appendFile(path, '2026-12-03T11:00:01.000000000Z stdout F two\n'), 100);
    setTimeout(() => {
      void appendFile(path, '2026-12-03T11:00:02.000000000Z stdout F three\n').then(() => {
        running = false;
      });
    }, 250);
    const out = await serveOnce({
      logPath: path,
      options: {},
      follow: true,
      pollMs: 20,
      isRunning: async () => running,
    });
    expect(out).toBe('one\ntwo\nthree\n');
  });

  it('stops at limitBytes and returns an empty body for a missing file', async () => {
    const path = join(dir, '0.log');
    const limited = await serveOnce({
      logPath: path,
      options: { limitBytes: 9 },
      follow: true,
      isRunning: async () => true,
    });
    expect(limited).toBe('container');
    const missing = await serveOnce({
      logPath: join(dir, 'nope.log'),
      options: {},
      follow: false,
      isRunning: async () => false,
    });
    expect(missing).toBe('');
  });
});
