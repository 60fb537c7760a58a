import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '@junction/broker-core';
import { TlsContextManager, verifiedPeerCert, type PeerCertInfo, type PeerCheck } from '@junction/tls';
import type { SslOptions } from '../config.js';

/**
 * Node TLS server options from EMQX-style `ssl_options` (no reload, CRL or OCSP: see `createWssServer`).
 * @deprecated use `createWssServer`.
 */
export function tlsServerOptions(o: SslOptions) {
  return new TlsContextManager(o).serverOptions();
}

export type PeerCert = PeerCertInfo;

/**
 * The charger's verified certificate (OCPP security profile 3): `undefined` without one,
 * `false` when one was presented that does not verify.
 */
export function peerCertificate(req: IncomingMessage): PeerCert | undefined | false {
  return verifiedPeerCert(req.socket as TLSSocket);
}

export interface WssServer {
  server: Server;
  tls: TlsContextManager;
  /** Runs `next` once the connection's client certificate check (CA, depth, CRL) passed. */
  afterPeerCheck(req: IncomingMessage, next: () => void): void;
}

/**
 * The HTTPS server of a wss listener through @junction/tls: certificates reload without a restart,
 * OCSP responses are stapled, and each client certificate is checked right after the handshake
 * (a refused charger is disconnected before its upgrade is looked at).
 */
export function createWssServer(ssl: SslOptions, log: Logger, onRequest: (req: IncomingMessage, res: ServerResponse) => void): WssServer {
  const tls = new TlsContextManager(ssl, { log });
  const server = createHttpsServer(tls.serverOptions(), onRequest);
  tls.attach(server);
  const checks = new WeakMap<object, Promise<PeerCheck>>();
  server.on('secureConnection', (s: TLSSocket) => {
    checks.set(
      s,
      tls.checkPeer(s).then((r) => {
        if (!r.ok) {
          log.info({ peer: `${s.remoteAddress}:${s.remotePort}`, reason: r.reason, detail: r.detail }, 'tls_peer_refused');
          s.destroy();
        }
        return r;
      }),
    );
  });
  server.once('close', () => tls.close());
  return {
    server,
    tls,
    afterPeerCheck(req, next) {
      const check = checks.get(req.socket);
      if (!check) return next();
      void check.then((r) => {
        if (r.ok && !req.socket.destroyed) next();
      });
    },
  };
}
