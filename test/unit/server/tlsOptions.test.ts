import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKubeletConfigYaml } from '../../../src/config/parse.js';
import { serverTlsOptions } from '../../../src/server/tlsOptions.js';
import { type ServerFixture, startServer } from './fixture.js';

// tlsMinVersion and tlsCipherSuites as upstream's kubelet reads them (component-base
// cli/flag TLSVersion, TLSCipherSuites: Go crypto/tls names) and as a client sees them.

describe('serverTlsOptions', () => {
  it('defaults to TLS 1.2 and the default suites', () => {
    expect(serverTlsOptions('', [])).toEqual({ ok: true, options: { minVersion: 'TLSv1.2', insecure: [] } });
  });

  it('maps Go version names', () => {
    const v = (name: string) => {
      const r = serverTlsOptions(name, []);
      return r.ok ? r.options.minVersion : r.error;
    };
    expect(['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'].map(v)).toEqual([
      'TLSv1',
      'TLSv1.1',
      'TLSv1.2',
      'TLSv1.3',
    ]);
    expect(v('TLSv1.2')).toBe('unknown tls version "TLSv1.2"');
  });

  it('maps Go suite names to OpenSSL names, keeps the TLS 1.3 suites, flags insecure ones', () => {
    expect(
      serverTlsOptions('', [
        'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
        'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
        'TLS_RSA_WITH_AES_128_CBC_SHA',
      ]),
    ).toEqual({
      ok: true,
      options: {
        minVersion: 'TLSv1.2',
        ciphers:
          'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:AES128-SHA:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
        insecure: ['TLS_RSA_WITH_AES_128_CBC_SHA'],
      },
    });
    expect(serverTlsOptions('', ['ECDHE-RSA-AES128-GCM-SHA256'])).toEqual({
      ok: false,
      error: "Cipher suite ECDHE-RSA-AES128-GCM-SHA256 not supported or doesn't exist",
    });
  });

  it('reads both fields from a KubeletConfiguration without an unknown-field warning', () => {
    const r = parseKubeletConfigYaml(
      [
        'apiVersion: kubelet.config.k8s.io/v1beta1',
        'kind: KubeletConfiguration',
        'tlsMinVersion: VersionTLS13',
        'tlsCipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]',
      ].join('\n'),
      'config.yaml',
    );
    expect(r.config.tlsMinVersion).toBe('VersionTLS13');
    expect(r.config.tlsCipherSuites).toEqual(['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256']);
    expect(r.warnings.join('\n')).not.toMatch(/tls/i);
  });
});

/** The negotiated protocol and cipher, or the handshake error's code. */
function handshake(port: number, o: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o }, () => {
      resolve(`${s.getProtocol()} ${s.getCipher().name}`);
      s.destroy();
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

describe('the kubelet API honours them', () => {
  let fx: ServerFixture | undefined;
  afterEach(() => fx?.close());

  it('tlsMinVersion VersionTLS13 refuses a TLS 1.2 client', async () => {
    const r = serverTlsOptions('VersionTLS13', []);
    if (!r.ok) throw new Error(r.error);
    fx = await startServer({ tls: r.options });
    expect(await handshake(fx.port, { maxVersion: 'TLSv1.2' })).toMatch(/^error /);
    expect(await handshake(fx.port, {})).toMatch(/^TLSv1\.3 /);
  });

  it('tlsCipherSuites limits TLS 1.2 to the listed suites', async () => {
    const r = serverTlsOptions('', ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256']);
    if (!r.ok) throw new Error(r.error);
    fx = await startServer({ tls: r.options });
    expect(
      await handshake(fx.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }),
    ).toMatch(/^error /);
    expect(await handshake(fx.port, { maxVersion: 'TLSv1.2' })).toBe('TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256');
  });

  it('without settings: TLS 1.1 is refused, TLS 1.2 works', async () => {
    fx = await startServer();
    expect(await handshake(fx.port, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' })).toMatch(/^error /);
    expect(await handshake(fx.port, { maxVersion: 'TLSv1.2' })).toMatch(/^TLSv1\.2 /);
  });
});
