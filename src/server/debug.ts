import type { IncomingMessage } from 'node:http';
import type { Pod } from '../api/types.js';
import { type ExplainView, renderExplain, renderWaterfall, type WaterfallInput } from '../timeline/render.js';

/** What the kubelet API serves under /debug/pods (issue 18), from the sync core's PodDebug. */
export interface ServerDebug {
  timeline(namespace: string, name: string): WaterfallInput | undefined;
  explain(namespace: string, name: string): ExplainView | undefined;
  dryRun(pod: Pod): unknown;
  /** Monotonic now on the timeline's clock (how long open steps have run). */
  monoNow(): number;
  /** Each new pod's start durations, once, when the watch shows it started (the start SLI metrics). */
  subscribeStarts?(fn: (o: { totalSeconds: number; sliSeconds?: number }) => void): void;
}

export interface DebugReply {
  code: number;
  body: string;
  type: string;
}

const MAX_BODY = 1024 * 1024;

const text = (code: number, body: string): DebugReply => ({
  code,
  body,
  type: 'text/plain; charset=utf-8',
});
const json = (v: unknown): DebugReply => ({ code: 200, body: JSON.stringify(v), type: 'application/json' });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * GET /debug/pods/{namespace}/{name}/timeline and /explain (JSON, or text with ?format=text),
 * POST /debug/pods/{namespace}/{name}/explain with a Pod in the body (a dry run: nothing is done).
 * Authorized as nodes/proxy, like every path upstream does not name.
 */
export async function serveDebugPods(
  debug: ServerDebug | undefined,
  parts: readonly string[],
  q: URLSearchParams,
  req: IncomingMessage,
): Promise<DebugReply> {
  const [, kind, ns, name, what] = parts;
  if (!debug || kind !== 'pods' || !ns || !name || parts.length !== 5)
    return text(404, '404 page not found\n');
  const asText = q.get('format') === 'text';
  const method = req.method ?? 'GET';
  if (what === 'timeline') {
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed\n');
    const t = debug.timeline(ns, name);
    if (!t) return text(404, `no timeline for pod "${ns}/${name}" on this node\n`);
    const monoNow = debug.monoNow();
    return asText ? text(200, renderWaterfall(t, { monoNow })) : json({ kind: 'PodTimeline', monoNow, ...t });
  }
  if (what !== 'explain') return text(404, '404 page not found\n');
  if (method === 'POST') {
    let pod: Pod;
    try {
      pod = JSON.parse(await readBody(req)) as Pod;
    } catch (err) {
      return text(
        400,
        `the body must be a Pod as JSON: ${err instanceof Error ? err.message : String(err)}\n`,
      );
    }
    if (!pod || typeof pod !== 'object' || !pod.spec)
      return text(400, 'the body must be a Pod with a spec\n');
    pod.metadata = { ...pod.metadata, namespace: ns, name };
    return json({ kind: 'PodDryRun', ...(debug.dryRun(pod) as object) });
  }
  if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed\n');
  const x = debug.explain(ns, name);
  if (!x) return text(404, `pod "${ns}/${name}" is not known to this node\n`);
  return asText ? text(200, renderExplain(x)) : json({ kind: 'PodExplanation', ...x });
}
