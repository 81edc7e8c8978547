import type { IncomingMessage } from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Proxies an HTTP upgrade (SPDY or WebSocket; exec, attach, port-forward) to the runtime's
 * streaming server URL returned by the CRI, like upstream's UpgradeAwareHandler: the client's
 * request is replayed against the target path, then bytes are piped both ways.
 */
export function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: URL): void {
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const upstream = net.connect({ host: target.hostname, port });
  const fail = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', () => {
    if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    upstream.destroy();
  });
  client.on('error', fail);
  upstream.on('connect', () => {
    const skip = new Set(['host', 'authorization', 'content-length']);
    let request = `${req.method ?? 'GET'} ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i]!;
      if (skip.has(k.toLowerCase())) continue;
      request += `${k}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    request += '\r\n';
    upstream.write(request);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
}

/** The streaming query of exec/attach: command list and which streams are wanted. */
export interface StreamOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export function streamOptions(q: URLSearchParams): StreamOptions | string {
  const flag = (names: string[]) => names.some((n) => ['1', 'true'].includes((q.get(n) ?? '').toLowerCase()));
  const tty = flag(['tty']);
  const o: StreamOptions = {
    command: q.getAll('command'),
    stdin: flag(['input', 'stdin']),
    stdout: flag(['output', 'stdout']),
    stderr: flag(['error', 'stderr']) && !tty,
    tty,
  };
  if (!o.stdin && !o.stdout && !o.stderr) return 'you must specify at least 1 of stdin, stdout, stderr';
  return o;
}
