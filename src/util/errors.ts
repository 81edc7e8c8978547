/** The message of an error-like value, for status messages and logs (never the stack). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
