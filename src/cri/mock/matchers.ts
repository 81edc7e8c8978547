import { matchLabels } from './filters.js';

/** What a matcher sees of a container. */
export interface ContainerView {
  readonly id: string;
  readonly name: string;
  readonly attempt: number;
  readonly sandboxId: string;
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  /** The image as the CreateContainer request named it. */
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Fields that must all match (labels: every key=value present). */
export interface ContainerSelector {
  id?: string;
  name?: string;
  podName?: string;
  podNamespace?: string;
  podUid?: string;
  image?: string;
  labels?: Readonly<Record<string, string>>;
}

/**
 * Picks containers: a string is a container id or a container name (metadata.name); an object
 * is a selector; a function decides by itself.
 */
export type ContainerMatcher = string | ContainerSelector | ((c: ContainerView) => boolean);

export function matches(m: ContainerMatcher, c: ContainerView): boolean {
  if (typeof m === 'function') return m(c);
  if (typeof m === 'string') return c.id === m || c.name === m;
  return (
    (m.id === undefined || m.id === c.id) &&
    (m.name === undefined || m.name === c.name) &&
    (m.podName === undefined || m.podName === c.podName) &&
    (m.podNamespace === undefined || m.podNamespace === c.podNamespace) &&
    (m.podUid === undefined || m.podUid === c.podUid) &&
    (m.image === undefined || m.image === c.image) &&
    matchLabels(m.labels, c.labels)
  );
}

/** An ordered list of matcher → value rules; the newest matching rule wins. */
export class RuleList<V> {
  private rules: { matcher: ContainerMatcher; value: V }[] = [];

  add(matcher: ContainerMatcher, value: V): () => void {
    const rule = { matcher, value };
    this.rules.unshift(rule);
    return () => {
      this.rules = this.rules.filter((r) => r !== rule);
    };
  }

  find(c: ContainerView): V | undefined {
    return this.rules.find((r) => matches(r.matcher, c))?.value;
  }

  /** Every matching value, newest first. */
  all(c: ContainerView): V[] {
    return this.rules.filter((r) => matches(r.matcher, c)).map((r) => r.value);
  }

  clear(): void {
    this.rules = [];
  }
}
