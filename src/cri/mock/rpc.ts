import type * as grpc from '@grpc/grpc-js';
import { onAbort } from '../../util/abort.js';
import { errorMessage } from '../../util/errors.js';
import { RpcError, unknown } from './errors.js';
import type { Faults } from './faults.js';
import type { Journal } from './journal.js';
import type { CriMethod } from './methods.js';

export interface CallContext {
  readonly method: CriMethod;
  /** Aborted when the client cancels the call (or its deadline passes) or the mock stops. */
  readonly signal: AbortSignal;
}

export interface RpcHooks {
  journal: Journal;
  faults: Faults;
  /** Aborted when the mock stops. */
  lifetime: AbortSignal;
}

function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  return unknown(errorMessage(err));
}

interface CancellableCall {
  on(event: 'cancelled', fn: () => void): unknown;
  removeListener(event: 'cancelled', fn: () => void): unknown;
}

/** A per-call signal, aborted on client cancel or mock stop; `done` detaches it. */
function callSignal(call: CancellableCall, lifetime: AbortSignal): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const abort = () => ac.abort();
  call.on('cancelled', abort);
  const detach = onAbort(lifetime, abort);
  return {
    signal: ac.signal,
    done: () => {
      detach();
      call.removeListener('cancelled', abort);
    },
  };
}

/**
 * Builds grpc-js handlers from plain async functions, adding what every mock call gets:
 * a journal entry, fault injection, a cancellation signal, and mapping of thrown errors to a
 * gRPC status (RpcError keeps its code; anything else is UNKNOWN).
 */
export function handlerFactory(hooks: RpcHooks) {
  function unary<Req, Res>(
    method: CriMethod,
    fn: (req: Req, ctx: CallContext) => Res | Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const entry = hooks.journal.record(method, call.request);
      const { signal, done } = callSignal(call, hooks.lifetime);
      const run = async () => {
        await hooks.faults.apply(method, signal);
        return fn(call.request, { method, signal });
      };
      run().then(
        (res) => {
          done();
          entry.code = 0;
          callback(null, res);
        },
        (err: unknown) => {
          done();
          const e = toRpcError(err);
          entry.code = e.code;
          callback(e);
        },
      );
    };
  }

  function serverStream<Req, Res>(
    method: CriMethod,
    fn: (call: grpc.ServerWritableStream<Req, Res>, ctx: CallContext) => Promise<void>,
  ): grpc.handleServerStreamingCall<Req, Res> {
    return (call) => {
      const entry = hooks.journal.record(method, call.request);
      const { signal, done } = callSignal(call, hooks.lifetime);
      const run = async () => {
        await hooks.faults.apply(method, signal);
        await fn(call, { method, signal });
      };
      run().then(
        () => {
          done();
          entry.code = 0;
          if (!call.writableEnded) call.end();
        },
        (err: unknown) => {
          done();
          const e = toRpcError(err);
          entry.code = e.code;
          if (!call.writableEnded) call.emit('error', e);
        },
      );
    };
  }

  return { unary, serverStream };
}

export type HandlerFactory = ReturnType<typeof handlerFactory>;
