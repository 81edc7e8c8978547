/** Node label checks: label syntax plus the kubernetes.io labels a kubelet may set on its own Node. */

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

// Upstream kubeletapis.IsKubeletLabel (pkg/kubelet/apis/well_known_labels.go).
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const inNamespace = (ns: string, base: string): boolean => ns === base || ns.endsWith(`.${base}`);

function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? '' : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1 && (prefix.length > 253 || !DNS1123_SUBDOMAIN_RE.test(prefix))) {
    return `invalid label key ${JSON.stringify(key)}: prefix must be a DNS-1123 subdomain`;
  }
  if (name.length > 63 || !NAME_RE.test(name)) {
    return `invalid label key ${JSON.stringify(key)}: name must be 63 characters or less, alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric character`;
  }
  return undefined;
}

/** Whether the NodeRestriction admission plugin lets a kubelet set this label on its own Node. */
export function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  const ns = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
  return KUBELET_LABEL_NAMESPACES.some((allowed) => inNamespace(ns, allowed));
}

/** Problems with node labels, as messages (empty when all are fine). */
export function nodeLabelErrors(labels: Readonly<Record<string, string>>): string[] {
  const errors: string[] = [];
  const forbidden: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const keyError = labelKeyError(key);
    if (keyError) errors.push(keyError);
    if (value !== '' && (value.length > 63 || !NAME_RE.test(value))) {
      errors.push(`invalid label value ${JSON.stringify(value)} for key ${JSON.stringify(key)}`);
    }
    const ns = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
    if ((inNamespace(ns, 'kubernetes.io') || inNamespace(ns, 'k8s.io')) && !isKubeletLabel(key))
      forbidden.push(key);
  }
  if (forbidden.length > 0) {
    errors.push(
      `unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [${forbidden.sort().join(' ')}]; ` +
        `labels in the 'kubernetes.io' namespace must begin with an allowed prefix (${KUBELET_LABEL_NAMESPACES.join(', ')}) ` +
        `or be in the specifically allowed set (${[...KUBELET_LABELS].sort().join(', ')})`,
    );
  }
  return errors;
}
