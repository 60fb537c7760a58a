/**
 * `ssl_options` of the QUIC and WebTransport listeners, through @junction/tls: the files are
 * read and checked (certificate and key match, encrypted key with `password`) by its
 * TlsContextManager, which also watches them. quiche takes PEM text when a connection is made,
 * so a reload hands the new PEM to the QUIC server (`QUICServer.updateConfig`): connections made
 * after it use the new certificate, open ones keep theirs.
 *
 * QUIC runs TLS 1.3 with quiche's own cipher suites and no PSK, CRL or OCSP support: options that
 * would weaken or silently skip a check are refused (ConfigError), harmless ones are logged as
 * ignored.
 */
import { createPrivateKey } from 'node:crypto';
import { ConfigError, type Logger } from '@junction/broker-core';
import { TlsConfigError, TlsContextManager, type SslOptions } from '@junction/tls';

/** What quiche's config takes: PEM text. */
export interface QuichePem {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

export class QuicheTls {
  private readonly manager: TlsContextManager;
  private following = false;

  /**
   * Reads and checks the files now; throws a ConfigError naming the key under `path`
   * (`listeners.quic.default.ssl_options`) when an option is not supported or a file is bad.
   */
  constructor(
    ssl: SslOptions,
    private readonly path: string,
    private readonly log: Logger,
  ) {
    checkSupported(ssl, path, log);
    try {
      this.manager = new TlsContextManager(ssl, { log });
    } catch (err) {
      if (err instanceof TlsConfigError) {
        // "ssl_options.keyfile: cannot read ...": name the key in the path.
        const m = /^ssl_options(\.[\w.]+)?: (.*)$/s.exec(err.message);
        throw new ConfigError(`${path}${m?.[1] ?? ''}`, m ? m[2]! : err.message, { cause: err });
      }
      throw err;
    }
  }

  /** The current certificate, key and CA as PEM text. */
  pem(): QuichePem {
    const o = this.manager.serverOptions();
    const text = (v: unknown): string | undefined => (v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
    let key = text(o.key)!;
    // quiche cannot decrypt keys: hand it the decrypted key.
    if (o.passphrase !== undefined) key = createPrivateKey({ key, passphrase: o.passphrase }).export({ type: 'pkcs8', format: 'pem' }).toString();
    const ca = text(o.ca);
    return { cert: text(o.cert)!, key, ...(ca !== undefined ? { ca } : {}) };
  }

  /** Watch the files; `apply` gets the new PEM after each successful reload. */
  follow(apply: (pem: QuichePem) => void): void {
    if (this.following) return;
    this.following = true;
    this.manager.on('reload', ({ fingerprint256 }) => {
      try {
        apply(this.pem());
        this.log.info({ fingerprint256 }, 'quic_certificate_reloaded');
      } catch (err) {
        this.log.warn({ err, path: this.path }, 'quic_certificate_reload_failed');
      }
    });
    void this.manager.start();
  }

  /** Check the files now (as a file change would); resolves true when something changed. */
  reload(): Promise<boolean> {
    return this.manager.reload();
  }

  close(): void {
    this.manager.close();
  }
}

function checkSupported(ssl: SslOptions, path: string, log: Logger): void {
  if (ssl.versions && !ssl.versions.includes('tlsv1.3')) throw new ConfigError(`${path}.versions`, 'QUIC runs TLS 1.3 only: include tlsv1.3');
  if (ssl.enable_crl_check) throw new ConfigError(`${path}.enable_crl_check`, 'CRL checks are not supported on QUIC listeners yet');
  if (ssl.psk?.enable) throw new ConfigError(`${path}.psk.enable`, 'TLS-PSK does not exist in QUIC (TLS 1.3 without PSK cipher suites)');
  const ignored: string[] = [];
  if (ssl.ciphers !== undefined) ignored.push('ciphers');
  if (ssl.ocsp?.enable_ocsp_stapling) ignored.push('ocsp');
  if (ssl.depth !== undefined && ssl.depth !== 10) ignored.push('depth');
  if (ignored.length > 0) log.warn({ path, ignored }, 'quic_ssl_options_ignored');
}
