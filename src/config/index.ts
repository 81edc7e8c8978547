/**
 * The kubelet's configuration: command line + KubeletConfiguration file + upstream defaults →
 * one validated ResolvedConfig. Precedence is upstream's: defaults < config file < explicit flags.
 */
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { errorMessage } from '../util/errors.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { type ParsedFlags, parseFlags } from './flags.js';
import type { KubeletConfiguration } from './kubeletConfig.js';
import { parseKubeletConfigYaml } from './parse.js';
import { applyDefaults } from './resolve.js';
import type { ResolvedConfig } from './types.js';
import { validateResolvedConfig } from './validate.js';

export { ConfigError, type ConfigIssue, FlagError } from './errors.js';
export {
  buildEvictionThresholds,
  DEFAULT_EVICTION_HARD,
  DEFAULT_MERGE_EVICTION_SETTINGS,
  effectiveEvictionHard,
} from './eviction.js';
export { DEFAULT_ROOT_DIR, klogVerbosityToLevel, type ParsedFlags, parseFlags, usage } from './flags.js';
export {
  KUBELET_CONFIG_API_VERSION,
  KUBELET_CONFIG_KIND,
  type KubeletConfiguration,
  type Taint,
  type TaintEffect,
} from './kubeletConfig.js';
export { isKubeletLabel, nodeLabelErrors } from './labels.js';
export { type ParsedKubeletConfig, parseKubeletConfigYaml } from './parse.js';
export { applyDefaults, type CommandLineSettings } from './resolve.js';
export type {
  EvictionSignal,
  EvictionThreshold,
  LogLevel,
  ReservedResources,
  ResolvedConfig,
  ThresholdValue,
} from './types.js';
export { EVICTION_SIGNALS } from './types.js';
export { validateResolvedConfig } from './validate.js';

/**
 * Upstream resolves relative paths in the config file against the file's directory
 * (KubeletConfigurationPathRefs); flag values stay relative to the working directory.
 */
export function resolveRelativePaths(cfg: KubeletConfiguration, configFile: string): KubeletConfiguration {
  const base = dirname(configFile);
  const fix = (p: string | undefined): string | undefined => (p && !isAbsolute(p) ? resolvePath(base, p) : p);
  const out: KubeletConfiguration = { ...cfg };
  if (cfg.staticPodPath !== undefined) out.staticPodPath = fix(cfg.staticPodPath);
  if (cfg.tlsCertFile !== undefined) out.tlsCertFile = fix(cfg.tlsCertFile);
  if (cfg.tlsPrivateKeyFile !== undefined) out.tlsPrivateKeyFile = fix(cfg.tlsPrivateKeyFile);
  if (cfg.resolvConf !== undefined) out.resolvConf = fix(cfg.resolvConf);
  if (cfg.podLogsDir !== undefined) out.podLogsDir = fix(cfg.podLogsDir);
  const clientCAFile = cfg.authentication?.x509?.clientCAFile;
  if (clientCAFile !== undefined) {
    out.authentication = {
      ...cfg.authentication,
      x509: { ...cfg.authentication?.x509, clientCAFile: fix(clientCAFile) },
    };
  }
  return out;
}

/** Upstream nodeutil.GetHostname: the override, else the hostname; trimmed and lower-cased. */
export function nodeNameFor(hostnameOverride: string | undefined, hostname: string): string {
  const name = (hostnameOverride?.trim() || hostname).trim().toLowerCase();
  if (name === '')
    throw new ConfigError('command line', [{ path: '', message: 'empty hostname is invalid' }]);
  return name;
}

function readConfigFile(
  path: string,
  readFile: (path: string) => string,
): { config: KubeletConfiguration; warnings: string[] } {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    const reason = errorMessage(e);
    throw new ConfigError(path, [{ path: '', message: `failed to read kubelet config file: ${reason}` }], {
      cause: e,
    });
  }
  const parsed = parseKubeletConfigYaml(text, path);
  return { config: resolveRelativePaths(parsed.config, path), warnings: parsed.warnings };
}

/** Names the flag in issues about fields the command line set, so the user looks in the right place. */
function attributeToFlags(issues: ConfigIssue[], flags: ParsedFlags): ConfigIssue[] {
  return issues.map((issue) => {
    const field = issue.path.split(/[.[]/)[0] as keyof KubeletConfiguration;
    const flag = flags.overriddenBy[field];
    return flag ? { ...issue, path: `${issue.path} (${flag})` } : issue;
  });
}

/**
 * Resolves the kubelet's configuration from its command line: reads --config (through `readFile`),
 * applies upstream defaults, lets explicitly set flags override file values, and validates.
 * Throws FlagError for a bad command line and ConfigError (listing every issue) for a bad
 * configuration. Unknown config-file fields come back as warnings for the caller to log.
 * --help and --version are not acted on here: check `parseFlags(argv)` first.
 */
export function resolveConfig(
  argv: readonly string[],
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  hostname: string = osHostname(),
): { config: ResolvedConfig; warnings: string[] } {
  const flags = parseFlags(argv);
  const file = flags.config ? readConfigFile(flags.config, readFile) : { config: {}, warnings: [] };
  const merged = mergeOverrides(file.config, flags.overrides);

  const { config, issues } = applyDefaults(merged, {
    nodeName: nodeNameFor(flags.hostnameOverride, hostname),
    kubeconfig: flags.kubeconfig,
    bootstrapKubeconfig: flags.bootstrapKubeconfig,
    configFile: flags.config,
    rootDir: flags.rootDir,
    certDir: flags.certDir,
    nodeIPs: flags.nodeIPs,
    logLevel: flags.logLevel,
    criConcurrency: flags.criConcurrency,
  });
  const allIssues = attributeToFlags([...issues, ...validateResolvedConfig(config)], flags);
  if (allIssues.length > 0) throw new ConfigError(flags.config ?? 'command line', allIssues);
  return { config, warnings: [...flags.warnings, ...file.warnings] };
}

/** Flags win over the file; the nested authentication/authorization blocks merge field by field. */
function mergeOverrides(file: KubeletConfiguration, flags: KubeletConfiguration): KubeletConfiguration {
  const out: KubeletConfiguration = { ...file, ...flags };
  const deep = (a: unknown, b: unknown): unknown => {
    if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null || Array.isArray(b))
      return b ?? a;
    const r: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) r[k] = deep(r[k], v);
    return r;
  };
  if (file.authentication && flags.authentication)
    out.authentication = deep(
      file.authentication,
      flags.authentication,
    ) as KubeletConfiguration['authentication'];
  if (file.authorization && flags.authorization)
    out.authorization = deep(
      file.authorization,
      flags.authorization,
    ) as KubeletConfiguration['authorization'];
  return out;
}
