import type { RestClient } from '../api/rest.js';

/** The slice of RestClient the node room uses (tests wrap it to count or fail requests). */
export type NodeApiClient = Pick<RestClient, 'get' | 'create' | 'replace' | 'patch'>;

export const nodePath = (name: string): string => `/api/v1/nodes/${encodeURIComponent(name)}`;

/** An error as one log-friendly line. */
export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** `wait.Jitter(d, factor)`: d plus up to factor × d. */
export function jittered(ms: number, factor: number): number {
  return factor > 0 ? ms + Math.random() * factor * ms : ms;
}
