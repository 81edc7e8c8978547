/** True when every key=value of `selector` is among `labels` (the CRI's label_selector). */
export function matchLabels(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Resolves a full id or a unique prefix of one, as containerd's truncindex does. Returns the
 * full id, or undefined when nothing (or more than one id) matches.
 */
export function resolveId(ids: Iterable<string>, idOrPrefix: string): string | undefined {
  if (!idOrPrefix) return undefined;
  let found: string | undefined;
  for (const id of ids) {
    if (id === idOrPrefix) return id;
    if (id.startsWith(idOrPrefix)) {
      if (found) return undefined;
      found = id;
    }
  }
  return found;
}

/** A CRI list filter on an id: empty matches all; else a full id or unique prefix. */
export function idFilter(ids: Iterable<string>, filter: string | undefined): (id: string) => boolean {
  if (!filter) return () => true;
  const full = resolveId(ids, filter) ?? filter;
  return (id) => id === full;
}
