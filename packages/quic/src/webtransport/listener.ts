/**
 * One `listeners.webtransport.<name>` entry: its HTTP/3 side (UDP) and, when enabled, its
 * HTTP/2 side (TCP), sharing one endpoint. `start()` reports the UDP port first.
 */
import { ConfigError, type AdapterContext, type ListenerInfo } from '@junction/broker-core';
import { QuicheTls } from '../quiche-tls.js';
import type { WebTransportListenerConfig } from './config.js';
import { WebTransportEndpoint } from './endpoint.js';
import { H2Listener } from './h2-listener.js';
import { H3Listener } from './h3-listener.js';

export class WebTransportListener {
  readonly endpoint: WebTransportEndpoint;
  private h3: H3Listener | undefined;
  private h2: H2Listener | undefined;
  private tls: QuicheTls | undefined;

  constructor(
    readonly name: string,
    readonly config: WebTransportListenerConfig,
    ctx: AdapterContext,
  ) {
    this.endpoint = new WebTransportEndpoint(name, config, ctx);
  }

  /** Bind both sides; on failure nothing stays bound. */
  async start(): Promise<ListenerInfo[]> {
    const tls = openTls(this.name, this.config, this.endpoint);
    const pem = tls.pem();
    this.tls = tls;
    this.endpoint.closing = false;
    this.h3 = new H3Listener(this.endpoint, pem);
    try {
      const infos = [await this.h3.start()];
      if (this.config.http2.enable) {
        this.h2 = new H2Listener(this.endpoint, pem);
        infos.push(await this.h2.start());
      }
      // Replaced certificate files reach new HTTP/3 connections (the HTTP/2 library takes its
      // certificate once).
      const h3 = this.h3;
      tls.follow((next) => h3.updateTls(next));
      return infos;
    } catch (err) {
      this.h2 = undefined;
      await this.stop(0);
      throw err;
    }
  }

  /** Re-read the certificate files now (they are also watched); true when they changed. */
  reloadTls(): Promise<boolean> {
    return this.tls?.reload() ?? Promise.resolve(false);
  }

  /** Stop taking sessions, tell MQTT clients the server is going away, drain, close. */
  async stop(drainMs = 5000): Promise<void> {
    const h3 = this.h3;
    const h2 = this.h2;
    this.h3 = undefined;
    this.h2 = undefined;
    this.tls?.close();
    this.tls = undefined;
    const drain = this.endpoint.drain(drainMs);
    await Promise.all([h3?.stop(drain), h2?.stop(drain)]);
  }

  /** QUIC connections open now (HTTP/3 side). */
  get quicConnections(): number {
    return this.h3?.quicConnections ?? 0;
  }
}

function openTls(name: string, config: WebTransportListenerConfig, endpoint: WebTransportEndpoint): QuicheTls {
  const path = `listeners.webtransport.${name}.ssl_options`;
  const ssl = config.ssl_options;
  for (const key of ['certfile', 'keyfile'] as const) {
    if (!ssl[key]) throw new ConfigError(`${path}.${key}`, 'required: WebTransport runs over TLS 1.3 only');
  }
  return new QuicheTls(
    { certfile: ssl.certfile, keyfile: ssl.keyfile, password: ssl.password, reload_interval: ssl.reload_interval, verify: 'verify_none', fail_if_no_peer_cert: false, versions: ['tlsv1.3'] },
    path,
    endpoint.log,
  );
}

