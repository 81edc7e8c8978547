import type { ProbeOutcome } from './types.js';

/**
 * A probe that could not be run (as opposed to one that ran and failed): upstream's prober
 * error. The worker throws its result away; the Unhealthy event says "errored and resulted in
 * <outcome> state". `outcome` is what upstream's handler returned alongside the error.
 */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  constructor(
    message: string,
    readonly outcome: ProbeOutcome = 'unknown',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
