#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { ApiError } from '../api/errors.js';
import { loadKubeconfig } from '../api/kubeconfig.js';
import { RestClient } from '../api/rest.js';
import type { Pod } from '../api/types.js';
import { type ExplainView, renderExplain, renderWaterfall, type WaterfallInput } from '../timeline/render.js';

/**
 * `kubelet-ts timeline pod NAME [-n NS]` and `kubelet-ts explain pod NAME [-n NS]` (issue 18):
 * ask the node a pod is bound to, through the apiserver's node proxy with the user's kubeconfig,
 * for the pod's lifecycle timeline (an aligned waterfall, the slowest step marked) or for what
 * the kubelet would do next and why. `explain -f pod.yaml --node NODE` is a dry run of a pod
 * spec on that node. Also a kubectl plugin: `kubectl kubelet-ts timeline pod NAME`.
 */

export const USAGE = `Usage:
  kubelet-ts timeline pod NAME [-n NAMESPACE] [-o json]
  kubelet-ts explain pod NAME [-n NAMESPACE] [-o json]
  kubelet-ts explain -f POD.json|yaml --node NODE [-n NAMESPACE]    (dry run: nothing is done)
Flags: --kubeconfig FILE (default $KUBECONFIG, ~/.kube/config), --context NAME
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface DebugArgs {
  command: 'timeline' | 'explain';
  name?: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  output: 'text' | 'json';
  file?: string;
  node?: string;
}

/** PURE: the command line of the debug subcommands (kubectl-style flags, `pod NAME` or `pod/NAME`). */
export function parseDebugArgs(argv: readonly string[]): DebugArgs {
  const [command, ...rest] = argv;
  if (command !== 'timeline' && command !== 'explain') throw new UsageError(`unknown command ${command}`);
  const a: DebugArgs = { command, output: 'text' };
  const words: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('-') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (arg.startsWith('-') && eq > 0) return arg.slice(eq + 1);
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`flag ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-n':
      case '--namespace':
        a.namespace = value();
        break;
      case '--kubeconfig':
        a.kubeconfig = value();
        break;
      case '--context':
        a.context = value();
        break;
      case '-o':
      case '--output': {
        const o = value();
        if (o !== 'json' && o !== 'text') throw new UsageError(`unknown output format ${o} (json or text)`);
        a.output = o;
        break;
      }
      case '-f':
      case '--filename':
        a.file = value();
        break;
      case '--node':
        a.node = value();
        break;
      case '-h':
      case '--help':
        throw new UsageError('');
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown flag ${arg}`);
        words.push(arg);
    }
  }
  if (a.file) {
    if (command !== 'explain') throw new UsageError('-f is a dry run of explain');
    if (!a.node) throw new UsageError('a dry run needs --node NODE');
    return a;
  }
  const [kind, name] = words[0]?.includes('/') ? words[0].split('/', 2) : words;
  if (kind !== 'pod' && kind !== 'pods' && kind !== 'po') throw new UsageError('expected: pod NAME');
  if (!name) throw new UsageError('expected: pod NAME');
  a.name = name;
  return a;
}

function kubeconfigPath(flag: string | undefined): string {
  if (flag) return flag;
  const env = process.env.KUBECONFIG?.split(delimiter).find(Boolean);
  return env ?? join(homedir(), '.kube', 'config');
}

/** The context's namespace (kubectl's default for -n). */
function contextNamespace(path: string, context: string | undefined): string | undefined {
  try {
    const raw = parse(readFileSync(path, 'utf8')) as {
      'current-context'?: string;
      contexts?: { name?: string; context?: { namespace?: string } }[];
    };
    const name = context ?? raw['current-context'];
    return raw.contexts?.find((c) => c.name === name)?.context?.namespace;
  } catch {
    return undefined;
  }
}

const seg = encodeURIComponent;

async function run(a: DebugArgs, out: (s: string) => void): Promise<void> {
  const path = kubeconfigPath(a.kubeconfig);
  const rest = RestClient.fromClientConfig(loadKubeconfig(path, a.context), {
    userAgent: 'kubelet-ts-debug',
  });
  const ns = a.namespace ?? contextNamespace(path, a.context) ?? 'default';
  try {
    if (a.file) {
      const text = readFileSync(a.file, 'utf8');
      const pod = parse(text) as Pod;
      const name = pod.metadata?.name ?? 'dry-run';
      const r = await rest.create<unknown>(
        `/api/v1/nodes/${seg(a.node ?? '')}/proxy/debug/pods/${seg(ns)}/${seg(name)}/explain`,
        pod,
      );
      out(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const name = a.name ?? '';
    let pod: Pod;
    try {
      pod = await rest.get<Pod>(`/api/v1/namespaces/${seg(ns)}/pods/${seg(name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw new UsageError(`pod ${ns}/${name} not found`);
      throw err;
    }
    const node = pod.spec?.nodeName;
    if (!node) {
      out(`pod ${ns}/${name} is not bound to a node yet: the scheduler has not placed it (see its events)\n`);
      return;
    }
    const base = `/api/v1/nodes/${seg(node)}/proxy/debug/pods/${seg(ns)}/${seg(name)}`;
    if (a.command === 'timeline') {
      const t = await rest.get<WaterfallInput & { monoNow?: number }>(`${base}/timeline`);
      out(
        a.output === 'json'
          ? `${JSON.stringify(t, null, 2)}\n`
          : `node ${node}\n${renderWaterfall(t, { monoNow: t.monoNow })}`,
      );
    } else {
      const x = await rest.get<ExplainView>(`${base}/explain`);
      out(a.output === 'json' ? `${JSON.stringify(x, null, 2)}\n` : `node ${node}\n${renderExplain(x)}`);
    }
  } finally {
    rest.close();
  }
}

/** Runs a debug subcommand; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runDebugCli(
  argv: readonly string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let a: DebugArgs;
  try {
    a = parseDebugArgs(argv);
  } catch (e) {
    err(`${e instanceof Error && e.message ? `error: ${e.message}\n` : ''}${USAGE}`);
    return 2;
  }
  try {
    await run(a, out);
    return 0;
  } catch (e) {
    const msg =
      e instanceof ApiError
        ? `${e.code} ${e.reason}: ${e.message}${e.code === 403 ? ' (reading a node\'s debug endpoints needs "get" on nodes/proxy)' : ''}`
        : e instanceof Error
          ? e.message
          : String(e);
    err(`error: ${msg}\n`);
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  // As the kubectl plugin kubectl-kubelet_ts: `kubectl kubelet-ts timeline pod NAME`.
  runDebugCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
