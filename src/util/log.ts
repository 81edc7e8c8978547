import { pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level?: string;
  name?: string;
}

/** The process logger: structured JSON on stderr (stdout stays free for command output). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'kubelet-ts',
      level: opts.level ?? process.env.KUBELET_TS_LOG_LEVEL ?? 'info',
      base: undefined,
      // Never log a credential, even if an object carrying one is logged whole.
      redact: {
        paths: ['*.token', '*.password', '*.auth', '*.identityToken', '*.registryToken', '*.data'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
