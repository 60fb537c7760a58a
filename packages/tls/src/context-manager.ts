/**
 * One TLS listener's security state: the secure context built from `ssl_options` files (reloaded
 * without a restart when they change), client certificate checks (trust, depth, CRL), PSK and
 * OCSP stapling. Servers get it through `serverOptions()` and `attach()`; every accepted socket
 * goes through `checkPeer()` before the protocol sees it.
 */
import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions, type Server, type TlsOptions, type TLSSocket } from 'node:tls';
import { resolveSslOptions, type ResolvedSslOptions, type SslOptions } from './config.js';
import { CrlStore, parseCrls } from './crl.js';
import { TlsConfigError } from './errors.js';
import { peerCertInfo, type PeerCertInfo } from './identity.js';
import { silentLogger, type TlsLogger } from './logger.js';
import { materialFiles, readMaterial, secureContextOptions, serverCertAndIssuer, type TlsMaterial } from './material.js';
import { OcspStapler } from './ocsp.js';
import { parsePskFile } from './psk.js';
import { FileWatcher } from './watch.js';
import { certificatesOf, findIssuer } from './x509.js';

export type PeerRefusal = 'no_peer_cert' | 'peer_cert_untrusted' | 'peer_cert_chain_too_long' | 'peer_cert_revoked' | 'peer_cert_crl_unavailable' | 'peer_cert_check_failed';

export type PeerCheck =
  | { ok: true; cert?: PeerCertInfo; pskIdentity?: string }
  | { ok: false; reason: PeerRefusal; detail?: string };

export interface TlsContextManagerOptions {
  log?: TlsLogger;
  /** Debounce of file-system notifications (ms). */
  watchDebounceMs?: number;
}

export interface TlsContextManagerEvents {
  reload: [info: { fingerprint256: string }];
  reload_failed: [err: Error];
}

export class TlsContextManager extends EventEmitter<TlsContextManagerEvents> {
  readonly options: ResolvedSslOptions;
  private material: TlsMaterial;
  private ctx: SecureContext;
  private ctxOptions: SecureContextOptions;
  private caCerts: X509Certificate[] = [];
  private psk = new Map<string, Buffer>();
  private readonly pskOf = new WeakMap<TLSSocket, string>();
  private readonly servers = new Set<Server>();
  private readonly crl: CrlStore | undefined;
  private readonly ocsp: OcspStapler | undefined;
  private readonly log: TlsLogger;
  private watcher: FileWatcher | undefined;
  private started: Promise<void> | undefined;
  private reloading: Promise<boolean> | undefined;
  private closed = false;

  /** Reads and checks every file now; throws `TlsConfigError` on a problem. */
  constructor(ssl: SslOptions, private readonly opts: TlsContextManagerOptions = {}) {
    super();
    this.options = resolveSslOptions(ssl);
    this.log = opts.log ?? silentLogger;
    if (this.options.enable_crl_check) this.crl = new CrlStore(this.options.crl_cache, this.log);
    if (this.options.ocsp.enable_ocsp_stapling) this.ocsp = new OcspStapler(this.options.ocsp, this.log);
    this.material = readMaterial(this.options);
    this.ctxOptions = secureContextOptions(this.options, this.material);
    this.ctx = this.build(this.material, this.ctxOptions);
  }

  /** The secure context new handshakes use. */
  get context(): SecureContext {
    return this.ctx;
  }

  /** SHA-256 fingerprint of the server certificate in use. */
  get fingerprint256(): string {
    return new X509Certificate(this.material.cert).fingerprint256;
  }

  /** The OCSP stapler, when stapling is enabled. */
  get stapler(): OcspStapler | undefined {
    return this.ocsp;
  }

  /** The CRL store, when CRL checking is enabled. */
  get crls(): CrlStore | undefined {
    return this.crl;
  }

  /** Options for `tls.createServer` / `https.createServer`. */
  serverOptions(): TlsOptions {
    const o = this.options;
    const verify = o.verify === 'verify_peer';
    const out: TlsOptions = {
      ...this.ctxOptions,
      requestCert: verify,
      // A missing certificate is refused in the handshake only with fail_if_no_peer_cert; a
      // presented one that does not verify is refused by checkPeer (so it can be logged).
      rejectUnauthorized: verify && o.fail_if_no_peer_cert,
      SNICallback: (_name, cb) => cb(null, this.ctx),
    };
    if (o.psk.enable) {
      out.pskCallback = (socket, identity) => {
        const key = this.psk.get(identity);
        if (key) this.pskOf.set(socket, identity);
        else this.log.info({ identity }, 'tls_psk_unknown_identity');
        return key ?? null;
      };
      if (o.psk.identity_hint) out.pskIdentityHint = o.psk.identity_hint;
    }
    return out;
  }

  /**
   * Follows `server` with reloads (`setSecureContext`) and staples OCSP responses; starts the
   * file watchers, CRL refresh and OCSP fetches on the first call. Returns a detach function;
   * the server's `close` detaches too.
   */
  attach(server: Server): () => void {
    this.servers.add(server);
    const onOcsp = (_cert: Buffer, _issuer: Buffer, cb: (err: Error | null, resp: Buffer | null) => void) => {
      void this.ocspResponse().then((r) => cb(null, r ?? null));
    };
    if (this.ocsp) server.on('OCSPRequest', onOcsp);
    const detach = () => {
      this.servers.delete(server);
      server.off('OCSPRequest', onOcsp);
    };
    server.once('close', detach);
    void this.start();
    return detach;
  }

  /** Starts watching files and fetching OCSP responses (idempotent); resolves after the first OCSP attempt. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const o = this.options;
      this.watcher = new FileWatcher(materialFiles(o), o.reload_interval, () => void this.reload(), this.log, this.opts.watchDebounceMs);
      this.crl?.start();
      await this.updateOcsp(this.material);
    })();
    return this.started;
  }

  /**
   * Re-reads every file; when anything changed, new handshakes use the new certificate, key, CA,
   * CRL and PSK identities (connections already open keep theirs). A broken set of files is
   * logged and the previous context kept. Resolves true when the context changed.
   */
  reload(): Promise<boolean> {
    this.reloading ??= this.reloadOnce().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async reloadOnce(): Promise<boolean> {
    if (this.closed) return false;
    let m: TlsMaterial;
    let ctxOptions: SecureContextOptions;
    try {
      m = readMaterial(this.options);
      if (m.digest === this.material.digest) return false;
      ctxOptions = secureContextOptions(this.options, m);
      this.ctx = this.build(m, ctxOptions);
    } catch (err) {
      this.log.warn({ err }, 'tls_reload_failed');
      this.emit('reload_failed', err as Error);
      return false;
    }
    this.material = m;
    this.ctxOptions = ctxOptions;
    for (const s of this.servers) s.setSecureContext(ctxOptions);
    const fingerprint256 = this.fingerprint256;
    this.log.info({ fingerprint256 }, 'tls_context_reloaded');
    await this.updateOcsp(m);
    this.emit('reload', { fingerprint256 });
    return true;
  }

  /** Builds and checks a context, and takes over the CA list, CRL file and PSK table with it. */
  private build(m: TlsMaterial, ctxOptions: SecureContextOptions): SecureContext {
    let ctx: SecureContext;
    try {
      ctx = createSecureContext(ctxOptions);
    } catch (err) {
      throw new TlsConfigError(`ssl_options: ${(err as Error).message}`, { cause: err });
    }
    const ca = m.ca ? certificatesOf(m.ca) : [];
    const crls = m.crl ? parseCrls(m.crl) : undefined;
    const psk = m.psk ? parsePskFile(m.psk.toString('utf8'), this.options.psk.separator, this.options.psk.init_file) : new Map<string, Buffer>();
    if (this.options.enable_crl_check && this.options.crlfile && crls) this.crl?.setFileCrls(crls);
    this.caCerts = ca;
    this.psk = psk;
    return ctx;
  }

  /** Points the stapler at the current server certificate; never throws (logs). */
  private async updateOcsp(m: TlsMaterial): Promise<void> {
    if (!this.ocsp) return;
    try {
      const { cert, issuer } = serverCertAndIssuer(m);
      await this.ocsp.setCertificate(cert, issuer);
    } catch (err) {
      this.log.warn({ err }, 'tls_ocsp_setup_failed');
    }
  }

  /** The OCSP response to staple now, waiting for a fetch in progress. */
  private async ocspResponse(): Promise<Buffer | undefined> {
    if (!this.ocsp) return undefined;
    const now = this.ocsp.response();
    if (now) return now;
    await this.started;
    return this.ocsp.response();
  }

  /**
   * Decides on an accepted socket: with verify_peer, a presented certificate must chain to the CA
   * within `depth` and (with enable_crl_check) not be revoked; without one, fail_if_no_peer_cert
   * decides. Resolves with the verified certificate's identity.
   */
  async checkPeer(socket: TLSSocket): Promise<PeerCheck> {
    try {
      return await this.inspectPeer(socket);
    } catch (err) {
      // A certificate our parsers cannot read: refused, never a crash.
      return { ok: false, reason: 'peer_cert_check_failed', detail: (err as Error).message };
    }
  }

  private async inspectPeer(socket: TLSSocket): Promise<PeerCheck> {
    const pskIdentity = this.pskOf.get(socket);
    if (this.options.verify !== 'verify_peer') return { ok: true, pskIdentity };
    const legacy = socket.getPeerCertificate(true);
    if (!legacy || Object.keys(legacy).length === 0) {
      return this.options.fail_if_no_peer_cert && !pskIdentity ? { ok: false, reason: 'no_peer_cert' } : { ok: true, pskIdentity };
    }
    if (!socket.authorized) return { ok: false, reason: 'peer_cert_untrusted', detail: String(socket.authorizationError ?? '') };
    let intermediates = 0;
    for (let c = legacy; c.issuerCertificate && c.issuerCertificate !== c && c.issuerCertificate.fingerprint256 !== c.fingerprint256; c = c.issuerCertificate) {
      if (c !== legacy) intermediates++;
    }
    if (intermediates > this.options.depth) return { ok: false, reason: 'peer_cert_chain_too_long', detail: `${intermediates} intermediates` };
    if (this.crl) {
      const leaf = new X509Certificate(legacy.raw);
      const chain = legacy.issuerCertificate?.raw ? [new X509Certificate(legacy.issuerCertificate.raw)] : [];
      const issuer = findIssuer(leaf, [...chain, ...this.caCerts]);
      const status = issuer ? await this.crl.status(leaf.raw, issuer) : 'unknown';
      if (status === 'revoked') return { ok: false, reason: 'peer_cert_revoked', detail: leaf.serialNumber };
      if (status === 'unknown') return { ok: false, reason: 'peer_cert_crl_unavailable', detail: leaf.issuer };
    }
    return { ok: true, cert: peerCertInfo(legacy), pskIdentity };
  }

  /** Stops watchers and refresh timers. Servers keep their current context. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.crl?.stop();
    this.ocsp?.stop();
    this.servers.clear();
  }
}
