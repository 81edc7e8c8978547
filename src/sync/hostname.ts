import type { Pod } from '../api/types.js';
import { SyncError } from './errors.js';

/**
 * PURE: the pod's hostname and domain (upstream Kubelet.GeneratePodHostNameAndDomain and
 * util.GetNodenameForKernel, pkg/kubelet/kubelet_pods.go and pkg/kubelet/util/util.go).
 */

/** Upstream kubecontainer.ErrCreatePodSandbox: what a failed sandbox config reports. */
export const CREATE_POD_SANDBOX_ERROR = 'CreatePodSandboxError';

const HOSTNAME_MAX_LEN = 63;
const FQDN_MAX_LEN = 64;
const DNS1123_LABEL_MAX_LEN = 63;
const DNS1123_SUBDOMAIN_MAX_LEN = 253;
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

const maxLenError = (n: number) => `must be no more than ${n} characters`;
const regexError = (msg: string, fmt: string, examples: string[]) =>
  `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;

/** Upstream validation.IsDNS1123Label: the list of problems, empty when valid. */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_LABEL_MAX_LEN) errs.push(maxLenError(DNS1123_LABEL_MAX_LEN));
  if (!DNS1123_LABEL_RE.test(value)) {
    if (DNS1123_SUBDOMAIN_RE.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(LABEL_ERR, DNS1123_LABEL_FMT, ['my-name', '123-abc']));
  }
  return errs;
}

/** Upstream validation.IsDNS1123Subdomain: the list of problems, empty when valid. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LEN) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LEN));
  if (!DNS1123_SUBDOMAIN_RE.test(value))
    errs.push(regexError(SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, ['example.com']));
  return errs;
}

const sandboxError = (message: string) => new SyncError(CREATE_POD_SANDBOX_ERROR, message);

/** Upstream truncatePodHostnameIfNeeded: cut to 63 chars, then no trailing '-' or '.'. */
function truncatePodHostnameIfNeeded(podName: string, hostname: string): string {
  if (hostname.length <= HOSTNAME_MAX_LEN) return hostname;
  const truncated = hostname.slice(0, HOSTNAME_MAX_LEN).replace(/[-.]+$/, '');
  if (truncated === '') throw sandboxError(`hostname for pod "${podName}" was invalid: "${hostname}"`);
  return truncated;
}

export interface PodHostnameAndDomain {
  /** The short hostname: /etc/hosts entry and (unless setHostnameAsFQDN) the kernel hostname. */
  hostname: string;
  /** `<subdomain>.<namespace>.svc.<clusterDomain>`, or '' (no subdomain, or hostnameOverride). */
  hostDomain: string;
}

/**
 * spec.hostnameOverride when set (a DNS subdomain, no domain); else spec.hostname (a DNS label)
 * or the pod name, with the domain from spec.subdomain. Invalid values throw a SyncError with
 * upstream's message.
 */
export function generatePodHostNameAndDomain(pod: Pod, clusterDomain: string): PodHostnameAndDomain {
  const spec = pod.spec;
  const podName = pod.metadata?.name ?? '';
  const override = spec?.hostnameOverride;
  if (override !== undefined && override !== null) {
    const msgs = isDNS1123Subdomain(override);
    if (msgs.length > 0) {
      throw sandboxError(
        `pod HostnameOverride "${override}" is not a valid DNS subdomain: ${msgs.join(';')}`,
      );
    }
    return { hostname: truncatePodHostnameIfNeeded(podName, override), hostDomain: '' };
  }
  let hostname = podName;
  if (spec?.hostname) {
    const msgs = isDNS1123Label(spec.hostname);
    if (msgs.length > 0) {
      throw sandboxError(`pod Hostname "${spec.hostname}" is not a valid DNS label: ${msgs.join(';')}`);
    }
    hostname = spec.hostname;
  }
  hostname = truncatePodHostnameIfNeeded(podName, hostname);
  let hostDomain = '';
  if (spec?.subdomain) {
    const msgs = isDNS1123Label(spec.subdomain);
    if (msgs.length > 0) {
      throw sandboxError(`pod Subdomain "${spec.subdomain}" is not a valid DNS label: ${msgs.join(';')}`);
    }
    hostDomain = `${spec.subdomain}.${pod.metadata?.namespace ?? ''}.svc.${clusterDomain}`;
  }
  return { hostname, hostDomain };
}

/**
 * Upstream GetNodenameForKernel: the kernel hostname (uname nodename) of the sandbox, the FQDN
 * when setHostnameAsFQDN and a domain exist (at most 64 chars), else the short hostname.
 */
export function getNodenameForKernel(
  hostname: string,
  hostDomain: string,
  setHostnameAsFQDN: boolean | undefined,
): string {
  if (hostDomain === '' || setHostnameAsFQDN !== true) return hostname;
  const fqdn = `${hostname}.${hostDomain}`;
  if (fqdn.length > FQDN_MAX_LEN) {
    throw sandboxError(
      `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (${FQDN_MAX_LEN} characters is the max, ${fqdn.length} characters requested)`,
    );
  }
  return fqdn;
}
