/**
 * Parsing a KubeletConfiguration file. Walks the YAML syntax tree (not the plain JS value) so every
 * problem can name its line and the value exactly as written ('1.0' stays '1.0').
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap,
} from 'yaml';
import { parseDuration } from '../util/duration.js';
import { errorMessage } from '../util/errors.js';
import { parseQuantity } from '../util/quantity.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { parseGracePeriod, parseMinimumReclaim, parseThresholdValue } from './eviction.js';
import {
  KUBELET_CONFIG_API_VERSION,
  KUBELET_CONFIG_KIND,
  type KubeletConfiguration,
} from './kubeletConfig.js';
import { checkReservedEntry } from './reserved.js';
import { type FieldSpec, KUBELET_CONFIG_SCHEMA, type MapSpec, UPSTREAM_ONLY_FIELDS } from './schema.js';

export interface ParsedKubeletConfig {
  config: KubeletConfiguration;
  /** One message per unknown or unsupported field path, ready to log. */
  warnings: string[];
}

const TAINT_EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

const MAP_ENTRY_CHECKS: Readonly<Record<MapSpec, (key: string, value: string) => void>> = {
  stringMap: () => {},
  stringListMap: () => {},
  resourceMap: checkReservedEntry,
  thresholdMap: parseThresholdValue,
  graceMap: parseGracePeriod,
  reclaimMap: parseMinimumReclaim,
};

const SKIP = Symbol('skip');
type Parsed = unknown | typeof SKIP;

class ConfigWalker {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: string[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly source: string,
  ) {}

  lineOf(node: Node | null | undefined): number | undefined {
    const start = node?.range?.[0];
    return start === undefined ? undefined : this.lines.linePos(start).line;
  }

  private fail(node: Node | null | undefined, path: string, message: string, value?: unknown): typeof SKIP {
    this.issues.push({ path, message, line: this.lineOf(node), ...(value === undefined ? {} : { value }) });
    return SKIP;
  }

  private deref(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }

  /** A scalar's text as written; null for YAML null (an unset field). */
  private text(node: Node | null, path: string, what: string): string | null | typeof SKIP {
    if (node === null) return null;
    if (!isScalar(node)) return this.fail(node, path, `expected ${what}`, node.toJSON());
    if (node.value === null) return null;
    if (typeof node.value === 'string') return node.value;
    return node.source ?? String(node.value);
  }

  object(map: YAMLMap, fields: Readonly<Record<string, FieldSpec>>, prefix: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const pair of map.items) {
      const keyNode = this.deref(pair.key);
      const key = isScalar(keyNode) ? String(keyNode.value) : JSON.stringify(keyNode?.toJSON());
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const spec = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (spec === undefined) {
        const where = `${this.source}:${this.lineOf(keyNode) ?? '?'}`;
        this.warnings.push(
          prefix === '' && UPSTREAM_ONLY_FIELDS.has(key)
            ? `${where}: field "${path}" is not supported by kubelet-ts and is ignored`
            : `${where}: unknown field "${path}"`,
        );
        continue;
      }
      const value = this.value(this.deref(pair.value), spec, path);
      if (value !== SKIP) out[key] = value;
    }
    return out;
  }

  private value(node: Node | null, spec: FieldSpec, path: string): Parsed {
    if (typeof spec === 'object') {
      if (node === null || (isScalar(node) && node.value === null)) return SKIP;
      if (!isMap(node)) return this.fail(node, path, 'expected an object', node.toJSON());
      return this.object(node, spec.fields, path);
    }
    switch (spec) {
      case 'string':
        return this.scalar(node, path, 'a string', (s) => s);
      case 'duration':
        return this.scalar(node, path, 'a duration', (s) => {
          parseDuration(s);
          return s;
        });
      case 'quantity':
        return this.scalar(node, path, 'a quantity', (s) => {
          parseQuantity(s);
          return s;
        });
      case 'int':
      case 'float':
        return this.number(node, path, spec);
      case 'bool':
        return this.bool(node, path);
      case 'stringList':
        return this.stringList(node, path);
      case 'taints':
        return this.taints(node, path);
      case 'stringListMap':
        return this.stringListMap(node, path);
      default:
        return this.stringMap(node, path, MAP_ENTRY_CHECKS[spec]);
    }
  }

  private scalar(node: Node | null, path: string, what: string, convert: (s: string) => unknown): Parsed {
    const text = this.text(node, path, what);
    if (text === null || text === SKIP) return SKIP;
    try {
      return convert(text);
    } catch (e) {
      return this.fail(node, path, errorMessage(e), text);
    }
  }

  private number(node: Node | null, path: string, kind: 'int' | 'float'): Parsed {
    const text = this.text(node, path, kind === 'int' ? 'an integer' : 'a number');
    if (text === null || text === SKIP) return SKIP;
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value !== 'number' || (kind === 'int' && !Number.isSafeInteger(value))) {
      return this.fail(
        node,
        path,
        `invalid ${kind === 'int' ? 'integer' : 'number'} ${JSON.stringify(text)}`,
        text,
      );
    }
    return value;
  }

  private bool(node: Node | null, path: string): Parsed {
    const text = this.text(node, path, 'a boolean');
    if (text === null || text === SKIP) return SKIP;
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value !== 'boolean')
      return this.fail(node, path, `invalid boolean ${JSON.stringify(text)}`, text);
    return value;
  }

  private stringList(node: Node | null, path: string): Parsed {
    if (node === null || (isScalar(node) && node.value === null)) return SKIP;
    if (!isSeq(node)) return this.fail(node, path, 'expected a list of strings', node.toJSON());
    const out: string[] = [];
    node.items.forEach((item, i) => {
      const text = this.text(this.deref(item), `${path}[${i}]`, 'a string');
      if (typeof text === 'string') out.push(text);
    });
    return out;
  }

  /** map[string][]string (staticPodURLHeader). */
  private stringListMap(node: Node | null, path: string): Parsed {
    if (node === null || (isScalar(node) && node.value === null)) return SKIP;
    if (!isMap(node)) return this.fail(node, path, 'expected a map of string lists', node.toJSON());
    const out: Record<string, string[]> = {};
    for (const pair of node.items) {
      const keyNode = this.deref(pair.key);
      const key = isScalar(keyNode) ? String(keyNode.value) : JSON.stringify(keyNode?.toJSON());
      const list = this.stringList(this.deref(pair.value), `${path}[${key}]`);
      if (list !== SKIP) out[key] = list as string[];
    }
    return out;
  }

  private stringMap(node: Node | null, path: string, check: (key: string, value: string) => void): Parsed {
    if (node === null || (isScalar(node) && node.value === null)) return SKIP;
    if (!isMap(node)) return this.fail(node, path, 'expected a map of strings', node.toJSON());
    const out: Record<string, string> = {};
    for (const pair of node.items) {
      const keyNode = this.deref(pair.key);
      const key = isScalar(keyNode) ? String(keyNode.value) : JSON.stringify(keyNode?.toJSON());
      const entryPath = `${path}[${key}]`;
      const valueNode = this.deref(pair.value);
      const text = this.text(valueNode, entryPath, 'a string');
      if (text === SKIP) continue;
      try {
        check(key, text ?? '');
        out[key] = text ?? '';
      } catch (e) {
        this.fail(valueNode ?? keyNode, entryPath, errorMessage(e), text ?? '');
      }
    }
    return out;
  }

  private taints(node: Node | null, path: string): Parsed {
    if (node === null || (isScalar(node) && node.value === null)) return SKIP;
    if (!isSeq(node)) return this.fail(node, path, 'expected a list of taints', node.toJSON());
    const fields: Record<string, FieldSpec> = {
      key: 'string',
      value: 'string',
      effect: 'string',
      timeAdded: 'string',
    };
    const out: unknown[] = [];
    node.items.forEach((raw, i) => {
      const item = this.deref(raw);
      const itemPath = `${path}[${i}]`;
      if (!isMap(item)) {
        this.fail(item, itemPath, 'expected a taint object', item?.toJSON());
        return;
      }
      const taint = this.object(item, fields, itemPath);
      const problems: string[] = [];
      if (typeof taint.key !== 'string' || taint.key === '') problems.push('key is required');
      if (typeof taint.effect !== 'string' || !TAINT_EFFECTS.has(taint.effect)) {
        problems.push(
          `effect must be one of NoSchedule, PreferNoSchedule, NoExecute (got ${JSON.stringify(taint.effect ?? '')})`,
        );
      }
      if (taint.timeAdded !== undefined) problems.push('timeAdded must not be set');
      if (problems.length > 0) {
        this.fail(item, itemPath, `invalid taint: ${problems.join('; ')}`, item.toJSON());
        return;
      }
      const { timeAdded: _unused, ...rest } = taint;
      out.push(rest);
    });
    return out;
  }
}

/**
 * Parses a KubeletConfiguration YAML (or JSON) document. Unknown fields become warnings; wrong
 * apiVersion/kind, malformed YAML and ill-typed values throw one ConfigError listing every issue.
 * Returns only the fields present in the file: defaults are applied later by resolve.ts.
 */
export function parseKubeletConfigYaml(text: string, source: string): ParsedKubeletConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        path: '',
        message: `invalid YAML: ${e.message}`,
        line: lines.linePos(e.pos[0]).line,
      })),
    );
  }
  const root = doc.contents;
  if (!isMap(root)) {
    throw new ConfigError(source, [
      {
        path: '',
        message: `expected a ${KUBELET_CONFIG_KIND} object, found ${root === null ? 'an empty document' : 'a non-mapping value'}`,
      },
    ]);
  }

  const walker = new ConfigWalker(doc, lines, source);
  const fields: Readonly<Record<string, FieldSpec>> = KUBELET_CONFIG_SCHEMA;
  const raw = walker.object(root, fields, '');

  const typeIssues: ConfigIssue[] = [];
  if (raw.kind !== KUBELET_CONFIG_KIND) {
    typeIssues.push({
      path: 'kind',
      value: raw.kind,
      message: `must be ${JSON.stringify(KUBELET_CONFIG_KIND)} (got ${raw.kind === undefined ? 'none' : JSON.stringify(raw.kind)})`,
    });
  }
  if (raw.apiVersion !== KUBELET_CONFIG_API_VERSION) {
    typeIssues.push({
      path: 'apiVersion',
      value: raw.apiVersion,
      message: `must be ${JSON.stringify(KUBELET_CONFIG_API_VERSION)} (got ${raw.apiVersion === undefined ? 'none' : JSON.stringify(raw.apiVersion)})`,
    });
  }
  const issues = [...typeIssues, ...walker.issues];
  if (issues.length > 0) throw new ConfigError(source, issues);
  // The schema is checked against KubeletConfiguration at compile time and each value was
  // converted according to it, so the walked object has that shape.
  return { config: raw as KubeletConfiguration, warnings: walker.warnings };
}
