import { createServer, type TLSSocket } from 'node:tls';
import type { AdapterContext } from '@junction/broker-core';
import { TlsContextManager } from '@junction/tls';
import type { SslListenerConfig, SslOptions } from '../config.js';
import { StreamListener } from './listener.js';

/**
 * Node TLS server options from EMQX-style `ssl_options`, without reloads, CRL or OCSP (those need
 * the TlsContextManager attached to the server and its `checkPeer`).
 * @deprecated use `TlsContextManager` from `@junction/tls`.
 */
export function tlsServerOptions(o: SslOptions) {
  return new TlsContextManager(o).serverOptions();
}

/**
 * TLS listener (EMQX default 8883), one-way or mutual, through @junction/tls: certificates reload
 * without a restart, client certificates are checked against the CA, depth and CRLs before the
 * MQTT engine sees a byte, OCSP responses are stapled, and PSK clients are accepted when enabled.
 */
export function createTlsListener(name: string, config: SslListenerConfig, ctx: AdapterContext): StreamListener {
  const log = ctx.log.child({ listener: `ssl:${name}` });
  // Made here so that bad certificate files fail at creation; a restart (after stop() closed it
  // with its server) makes a fresh one, so reloads and CRL/OCSP refreshes keep running.
  let first: TlsContextManager | undefined = new TlsContextManager(config.ssl_options, { log });
  return new StreamListener('ssl', name, config, ctx, (onSocket) => {
    const tls = first ?? new TlsContextManager(config.ssl_options, { log });
    first = undefined;
    const server = createServer(tls.serverOptions(), (socket: TLSSocket) => {
      socket.on('error', () => {}); // refused before the engine owns it
      void tls.checkPeer(socket).then((check) => {
        if (socket.destroyed) return;
        if (!check.ok) {
          log.info({ peer: `${socket.remoteAddress}:${socket.remotePort}`, reason: check.reason, detail: check.detail }, 'tls_peer_refused');
          socket.destroy();
          return;
        }
        onSocket(socket, check.cert ? { peerCert: check.cert } : {});
      });
    });
    tls.attach(server);
    server.once('close', () => tls.close());
    return server;
  });
}
