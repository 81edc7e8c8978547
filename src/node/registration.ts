import { isAlreadyExists, isForbidden } from '../api/errors.js';
import { type EventRecorder, nodeRef, nullRecorder } from '../api/events.js';
import type { Node } from '../api/types.js';
import { sleep, throwIfAborted } from '../util/abort.js';
import { RetryDelay } from '../util/backoff.js';
import { type Logger, silentLogger } from '../util/log.js';
import { describeError, type NodeApiClient, nodePath } from './client.js';
import { reconcileExistingNode } from './patch.js';
import type { NodeStatusEvent } from './setters.js';

export interface RegisterNodeOptions {
  client: NodeApiClient;
  /** Builds the Node to register, afresh for each attempt (see buildInitialNode). */
  build: () => { node: Node; events: NodeStatusEvent[] };
  recorder?: EventRecorder;
  log?: Logger;
  signal?: AbortSignal;
  /** Backoff between attempts: 100 ms doubling to 7 s. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Registers this node (upstream registerWithAPIServer): POST the Node; if it exists already (or
 * the create is forbidden, as NodeRestriction answers for an existing node) GET it and patch
 * what we own back in. Retries until it works or the signal aborts (then rejects with
 * AbortedError). Resolves with the Node as stored, whose uid the Lease owner reference needs.
 */
export async function registerNode(opts: RegisterNodeOptions): Promise<Node> {
  const log = opts.log ?? silentLogger;
  const recorder = opts.recorder ?? nullRecorder;
  const retry = new RetryDelay(opts.initialBackoffMs ?? 100, opts.maxBackoffMs ?? 7_000);
  for (;;) {
    throwIfAborted(opts.signal);
    let name = '';
    try {
      const { node, events } = opts.build();
      name = node.metadata?.name ?? '';
      log.info({ node: name }, 'Attempting to register node');
      const registered = await tryRegister(opts.client, node, log, opts.signal);
      log.info({ node: name, uid: registered.metadata?.uid }, 'Successfully registered node');
      for (const e of events) recorder.event(nodeRef(name), e.type, e.reason, e.message);
      return registered;
    } catch (err) {
      throwIfAborted(opts.signal);
      log.error(
        { node: name, err: describeError(err), retryInMs: retry.peek() },
        'Unable to register node with API server',
      );
    }
    await sleep(retry.next(), opts.signal);
  }
}

async function tryRegister(
  client: NodeApiClient,
  node: Node,
  log: Logger,
  signal?: AbortSignal,
): Promise<Node> {
  const name = node.metadata?.name ?? '';
  let createErr: unknown;
  try {
    return await client.create<Node>('/api/v1/nodes', node, { signal });
  } catch (err) {
    if (!isAlreadyExists(err) && !isForbidden(err)) throw err;
    createErr = err;
  }
  let existing: Node;
  try {
    existing = await client.get<Node>(nodePath(name), { signal });
  } catch (err) {
    throw new Error(
      `error getting existing node (create said: ${describeError(createErr)}): ${describeError(err)}`,
      { cause: err },
    );
  }
  log.info({ node: name }, 'Node was previously registered');
  const patch = reconcileExistingNode(node, existing);
  if (!patch) return existing;
  return client.patch<Node>(`${nodePath(name)}/status`, patch, 'strategic', { signal });
}
