import { podDesc } from '../api/pod.js';
import { sleep } from '../util/abort.js';
import { errorMessage } from '../util/errors.js';
import { type ExecRunner, execHook } from './exec.js';
import { doHttpGet, type HttpGetRequest, newHttpGetRequest } from './http.js';
import { joinHostPort } from './net.js';
import type { LifecycleHandler, ProbeContainer, ProbeEventSink, ProbePod } from './types.js';

export interface HookInput {
  pod: ProbePod;
  container: ProbeContainer;
  /** Runtime container ID (no `containerd://` prefix). */
  containerId: string;
  handler: LifecycleHandler;
  /** The pod's IPs (the first is the default host of an httpGet hook). */
  podIPs: readonly string[];
}

/** `message` is upstream's detailed text (for the waiting reason and logs, never for events). */
export type HookOutcome = { ok: true } | { ok: false; message: string };

export interface LifecycleHandlerRunnerOptions {
  exec: ExecRunner;
  /** For LifecycleHTTPFallback. */
  events?: ProbeEventSink;
}

function isHttpResponseToHttps(err: unknown): boolean {
  const cause = (err as { cause?: NodeJS.ErrnoException })?.cause;
  const code = cause?.code ?? '';
  return code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(cause?.message ?? '');
}

/**
 * Runs postStart and preStop handlers (upstream lifecycle.handlerRunner): exec through CRI
 * ExecSync with no timeout of its own, httpGet (host defaults to the pod IP; the response code
 * is not checked; an HTTPS hook answered in plain HTTP is retried over HTTP with a
 * LifecycleHTTPFallback event), and sleep. Cancelling `signal` ends the hook.
 */
export class LifecycleHandlerRunner {
  constructor(private readonly o: LifecycleHandlerRunnerOptions) {}

  async run(x: HookInput, signal?: AbortSignal): Promise<HookOutcome> {
    const { handler, container, pod } = x;
    const where = `for Container ${JSON.stringify(container.name)} in Pod ${JSON.stringify(podDesc(pod))}`;
    if (handler.exec) {
      const cmd = handler.exec.command ?? [];
      const r = await execHook(this.o.exec, x.containerId, cmd, signal);
      if (r.error === undefined) return { ok: true };
      return {
        ok: false,
        message: `Exec lifecycle hook ([${cmd.join(' ')}]) ${where} failed - error: ${r.error}, message: ${JSON.stringify(r.output)}`,
      };
    }
    if (handler.httpGet) {
      const err = await this.runHttp(x, signal);
      if (err === undefined) return { ok: true };
      return {
        ok: false,
        message: `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${where} failed - error: ${err}`,
      };
    }
    if (handler.sleep) {
      const seconds = handler.sleep.seconds;
      try {
        await sleep(seconds * 1000, signal);
        return { ok: true };
      } catch {
        return {
          ok: false,
          message: `Sleep lifecycle hook (${seconds}) ${where} failed - error: container terminated before sleep hook finished`,
        };
      }
    }
    return { ok: false, message: `Cannot run handler: invalid handler: ${JSON.stringify(handler)}` };
  }

  private async runHttp(x: HookInput, signal?: AbortSignal): Promise<string | undefined> {
    const action = x.handler.httpGet;
    if (!action) return undefined;
    const podIP = action.host || x.podIPs[0];
    if (!podIP) return 'failed to find networking container: the pod has no IP address';
    let req: HttpGetRequest;
    try {
      req = newHttpGetRequest(action, x.container, podIP, 'lifecycle');
    } catch (err) {
      return errorMessage(err);
    }
    try {
      await doHttpGet(req, { signal });
      return undefined;
    } catch (err) {
      if (req.scheme !== 'https' || !isHttpResponseToHttps(err)) return errorMessage(err);
      const plain: HttpGetRequest = {
        ...req,
        scheme: 'http',
        headers: req.headers.filter(([k]) => k !== 'Authorization'),
      };
      try {
        await doHttpGet(plain, { signal });
      } catch {
        return errorMessage(err);
      }
      this.o.events?.event(
        {
          kind: 'Pod',
          apiVersion: 'v1',
          namespace: x.pod.metadata?.namespace ?? 'default',
          name: x.pod.metadata?.name ?? '',
          uid: x.pod.metadata?.uid ?? '',
        },
        'Warning',
        'LifecycleHTTPFallback',
        `request to HTTPS lifecycle hook ${joinHostPort(req.host, req.port)} got HTTP response, retry with HTTP succeeded`,
      );
      return undefined;
    }
  }
}
