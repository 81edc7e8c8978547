/** One problem in the configuration: where it is, what was there, and what is wrong with it. */
export interface ConfigIssue {
  /** Field path, e.g. `maxPods`, `authentication.webhook.cacheTTL`, `evictionHard[memory.available]`. */
  path: string;
  /** The offending value as written (absent when the problem is a missing value). */
  value?: unknown;
  message: string;
  /** 1-based line in the config file, when known. */
  line?: number;
}

function describe(source: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? source : `${source}:${issue.line}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** The kubelet configuration (file, flags or their combination) is unusable. Lists every issue found. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[], options?: ErrorOptions) {
    const lines = issues.map((i) => describe(source, i));
    super(
      lines.length === 1
        ? (lines[0] ?? '')
        : `${lines.length} configuration errors:\n  ${lines.join('\n  ')}`,
      options,
    );
    this.source = source;
    this.issues = issues;
  }

  /** The first issue's field path (convenient when there is only one). */
  get path(): string {
    return this.issues[0]?.path ?? '';
  }

  get value(): unknown {
    return this.issues[0]?.value;
  }
}

/** The command line is unusable: unknown flag, missing or malformed value. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}
