/**
 * PURE: the kubelet API's TLS settings from tlsMinVersion and tlsCipherSuites, as upstream
 * (component-base cli/flag TLSVersion and TLSCipherSuites, Go crypto/tls names) maps them,
 * translated to Node's minVersion and OpenSSL cipher names. Empty settings are Go's defaults:
 * TLS 1.2 and up, Go's default suites. As in Go, TLS 1.3 suites are not configurable.
 */

const VERSIONS: Record<string, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = {
  VersionTLS10: 'TLSv1',
  VersionTLS11: 'TLSv1.1',
  VersionTLS12: 'TLSv1.2',
  VersionTLS13: 'TLSv1.3',
};

/** Go's secure suites (tls.CipherSuites()) and upstream's two aliases. */
const SECURE: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  // TLS 1.3 suites: accepted names, not configurable (Go ignores them for 1.2 and below).
  TLS_AES_128_GCM_SHA256: '',
  TLS_AES_256_GCM_SHA384: '',
  TLS_CHACHA20_POLY1305_SHA256: '',
};

/** Go's insecure suites (tls.InsecureCipherSuites()): accepted, with a warning. */
const INSECURE: Record<string, string> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
};

const TLS13 = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

export interface ServerTlsOptions {
  minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (TLS 1.2 and below, then the TLS 1.3 suites); undefined: Node's default. */
  ciphers?: string;
  /** Insecure suites asked for (upstream logs "Use of insecure cipher detected."). */
  insecure: string[];
}

export type TlsOptionsResult = { ok: true; options: ServerTlsOptions } | { ok: false; error: string };

export function serverTlsOptions(minVersion: string, cipherSuites: readonly string[]): TlsOptionsResult {
  const v = minVersion === '' ? 'TLSv1.2' : VERSIONS[minVersion];
  if (!v) return { ok: false, error: `unknown tls version ${JSON.stringify(minVersion)}` };
  if (cipherSuites.length === 0) return { ok: true, options: { minVersion: v, insecure: [] } };
  const names: string[] = [];
  const insecure: string[] = [];
  for (const s of cipherSuites) {
    const secure = SECURE[s];
    const weak = INSECURE[s];
    if (secure === undefined && weak === undefined)
      return { ok: false, error: `Cipher suite ${s} not supported or doesn't exist` };
    if (weak !== undefined) insecure.push(s);
    const openssl = secure ?? weak ?? '';
    if (openssl && !names.includes(openssl)) names.push(openssl);
  }
  return { ok: true, options: { minVersion: v, ciphers: [...names, TLS13].join(':'), insecure } };
}
