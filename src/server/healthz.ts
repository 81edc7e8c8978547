import * as http from 'node:http';
import type { Logger } from '../util/log.js';

/** The plain-HTTP healthz endpoint (healthzBindAddress:healthzPort, /healthz → "ok"). */
export function startHealthz(
  address: string,
  port: number,
  healthy: () => { ok: boolean; message: string },
  log: Logger,
): http.Server {
  const server = http.createServer((req, res) => {
    if (req.url !== '/healthz' && !req.url?.startsWith('/healthz?')) {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    const h = healthy();
    res
      .writeHead(h.ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8' })
      .end(h.ok ? 'ok' : `${h.message}\n`);
  });
  server.on('error', (err) => log.warn({ err: err.message, address, port }, 'healthz server failed'));
  server.listen(port, address);
  return server;
}
