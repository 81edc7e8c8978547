import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { type LogOptions, parseCriLog, renderLog } from './criLog.js';

export interface ContainerLogStream {
  /** Absolute path of the container's CRI log file. */
  logPath: string;
  options: LogOptions;
  /** `follow=true`: keep streaming while the container runs. */
  follow: boolean;
  /** Whether the container still runs (asked every second while a followed log is idle). */
  isRunning: () => Promise<boolean>;
  /** The client went away. */
  closed: () => boolean;
  /** Milliseconds between reads of a followed log (default 200). */
  pollMs?: number;
}

/**
 * Writes `text` and resolves once it has left for the socket (upstream flushwriter: a Flush per
 * Write). A failed write means the client is gone; the caller notices through `closed`.
 */
function flushed(res: ServerResponse, text: string): Promise<void> {
  return new Promise((resolve) => {
    res.write(text, () => resolve());
  });
}

/**
 * The body of GET /containerLogs (upstream getContainerLogs → ReadLogs into a flushwriter):
 * chunked text/plain, every piece of output flushed to the wire before the next one and before
 * the response ends. The end of the response (the zero-length chunk) therefore never shares a
 * TLS record with log bytes, as with upstream's kubelet. The apiserver depends on that when it
 * serves pods/log over a websocket: its wsstream reader discards the bytes of a read that also
 * returns EOF, which is what Go's chunked reader does when the terminating chunk is already
 * buffered.
 */
export async function writeContainerLog(res: ServerResponse, s: ContainerLogStream): Promise<void> {
  const opts = s.options;
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
  const fh = await open(s.logPath, 'r').catch(() => undefined);
  if (!fh) {
    res.end();
    return;
  }
  try {
    let offset = 0;
    let carry = '';
    let budget = opts.limitBytes;
    const readMore = async (): Promise<string> => {
      const { size } = await fh.stat();
      if (size <= offset) return '';
      const buf = Buffer.alloc(size - offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      offset += bytesRead;
      return buf.subarray(0, bytesRead).toString('utf8');
    };
    /** Renders and writes new records; false once limitBytes is used up. */
    const emit = async (raw: string, first: boolean): Promise<boolean> => {
      const { records, rest } = parseCriLog(carry + raw);
      carry = rest;
      const text = renderLog(records, {
        ...opts,
        tailLines: first ? opts.tailLines : undefined,
        limitBytes: budget,
      });
      if (text) await flushed(res, text);
      if (budget === undefined) return true;
      budget -= Buffer.byteLength(text);
      return budget > 0;
    };
    if (!(await emit(await readMore(), true)) || !s.follow) return;
    const pollMs = s.pollMs ?? 200;
    const checkEvery = Math.max(1, Math.round(1000 / pollMs));
    let idleChecks = 0;
    while (!s.closed()) {
      await new Promise((r) => setTimeout(r, pollMs));
      const more = await readMore();
      if (more) {
        idleChecks = 0;
        if (!(await emit(more, false))) break;
        continue;
      }
      if (++idleChecks % checkEvery === 0 && !(await s.isRunning())) {
        await emit(await readMore(), false);
        break;
      }
    }
  } finally {
    await fh.close();
    if (!res.writableEnded) res.end();
  }
}
