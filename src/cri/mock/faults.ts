import { status } from '@grpc/grpc-js';
import { RpcError } from './errors.js';
import type { CriMethod } from './methods.js';
import { abortableDelay } from './wait.js';

/** A fault to inject into calls of one method (or '*' for every method). */
export interface FaultSpec {
  method: CriMethod | '*';
  /** gRPC status to fail with (e.g. 14 UNAVAILABLE). Omit for latency only. */
  code?: number;
  /** The error details; defaults to "injected fault: <method>". */
  message?: string;
  /** How many calls the fault applies to (counted when it fires); default: until removed. */
  times?: number;
  /** Delay before the call is handled (or fails). */
  latencyMs?: number;
  /** Probability in [0, 1] that a call fails with `code`; default 1. */
  errorRate?: number;
  /** Never answer: the call waits until the client cancels it or its deadline passes. */
  hang?: boolean;
}

interface Rule extends FaultSpec {
  remaining: number;
}

/** Fault injection for the mock's RPCs. Rules apply newest first; all that match apply. */
export class Faults {
  private rules: Rule[] = [];
  private readonly random: () => number;

  constructor(random: () => number) {
    this.random = random;
  }

  /** Adds a fault; returns a function that removes it. */
  inject(spec: FaultSpec): () => void {
    if (spec.errorRate !== undefined && (spec.errorRate < 0 || spec.errorRate > 1)) {
      throw new RangeError(`errorRate must be in [0, 1], got ${spec.errorRate}`);
    }
    const rule: Rule = { ...spec, remaining: spec.times ?? Number.POSITIVE_INFINITY };
    this.rules.unshift(rule);
    return () => {
      this.rules = this.rules.filter((r) => r !== rule);
    };
  }

  clear(): void {
    this.rules = [];
  }

  get active(): readonly FaultSpec[] {
    return this.rules;
  }

  /** Applies the faults matching `method` to one call: waits, hangs, or throws an RpcError. */
  async apply(method: CriMethod, signal: AbortSignal): Promise<void> {
    for (const rule of this.rules.filter((r) => r.method === '*' || r.method === method)) {
      if (rule.remaining <= 0) continue;
      const fails = rule.code !== undefined && this.random() < (rule.errorRate ?? 1);
      const fires = fails || rule.code === undefined;
      if (!fires) continue;
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
      if (rule.latencyMs) await abortableDelay(rule.latencyMs, signal);
      if (rule.hang) await abortableDelay(Number.POSITIVE_INFINITY, signal);
      if (fails) {
        throw new RpcError(rule.code ?? status.UNKNOWN, rule.message ?? `injected fault: ${method}`);
      }
    }
  }
}

/** A small seeded PRNG (mulberry32), so error-rate tests are deterministic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
