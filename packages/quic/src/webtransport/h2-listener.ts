/**
 * WebTransport over HTTP/2 (draft-ietf-webtransport-http2) on a TCP port with TLS, through
 * @fails-components/webtransport's server, for clients whose UDP is blocked. Sessions to the
 * configured path are taken (others get 404 from the library); each incoming bidirectional
 * stream carries one MQTT connection, as over HTTP/3.
 */
import { randomBytes } from 'node:crypto';
import type { Http2Server, WebTransportSession } from '@fails-components/webtransport';
import type { ListenerInfo, Logger } from '@junction/broker-core';
import type { WebTransportEndpoint } from './endpoint.js';
import { loadFailsWebTransport } from './fails-loader.js';
import { WebStreamDuplex } from './stream-duplex.js';

/** Session-level flow control window (the library's default limit, and its clients'). */
const SESSION_WINDOW = 15 * 1024 * 1024;

/** WebTransport session close code sent when the listener refuses or ends a session. */
const CLOSE_REFUSED = 1;

export class H2Listener {
  private server: Http2Server | undefined;
  private readonly sessions = new Set<WebTransportSession>();
  private readonly log: Logger;

  constructor(
    private readonly endpoint: WebTransportEndpoint,
    private readonly tls: { cert: string; key: string },
  ) {
    this.log = endpoint.log.child({ transport: 'h2' });
  }

  async start(): Promise<ListenerInfo> {
    const { config, name } = this.endpoint;
    const { host, port } = config.http2.bind;
    const { Http2Server } = await loadFailsWebTransport();
    const server = new Http2Server({
      host,
      port,
      // Used by the library for its HTTP/3 side only; required by its constructor.
      secret: randomBytes(16).toString('hex'),
      cert: this.tls.cert,
      privKey: this.tls.key,
      initialBidirectionalStreams: config.max_streams,
      // The library announces initialSessionFlowControlWindow (SETTINGS_WT_INITIAL_MAX_DATA) but
      // opens each session's receive window at sessionFlowControlWindowSizeLimit, and sends no
      // WT_MAX_DATA until half of that is used: a client that believes the announcement stalls
      // after 16 KB. Announcing what it really opens keeps both sides in step.
      initialSessionFlowControlWindow: SESSION_WINDOW,
      sessionFlowControlWindowSizeLimit: SESSION_WINDOW,
      defaultDatagramsReadableMode: 'bytes',
    } as ConstructorParameters<typeof Http2Server>[0]);
    const sessions = server.sessionStream(config.path);
    server.startServer();
    await server.ready;
    this.server = server;
    void this.acceptSessions(sessions);
    const bound = server.address()?.port ?? port;
    this.log.info({ host, port: bound, path: config.path }, 'listener_started');
    return { type: 'wt-h2', name, host, port: bound };
  }

  private async acceptSessions(stream: ReadableStream<WebTransportSession>): Promise<void> {
    const reader = stream.getReader();
    for (;;) {
      const { value: session, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done || !session) return;
      this.session(session);
    }
  }

  private session(session: WebTransportSession): void {
    const peer = session.peerAddress ?? 'unknown';
    if (!this.endpoint.admitSession()) {
      this.log.debug({ peer }, 'wt_session_refused');
      session.closed.catch(() => {});
      session.close({ closeCode: CLOSE_REFUSED, reason: 'too many sessions' });
      return;
    }
    this.sessions.add(session);
    this.log.debug({ peer }, 'wt_session_opened');
    const streams = new Set<WebStreamDuplex>();
    const ended = () => {
      if (!this.sessions.delete(session)) return;
      this.endpoint.sessionEnded();
      for (const s of streams) s.destroy();
      this.log.debug({ peer }, 'wt_session_closed');
    };
    session.closed.then(ended, ended);
    void (async () => {
      try {
        await session.ready;
        const incoming = session.incomingBidirectionalStreams.getReader();
        for (;;) {
          const { value: bidi, done } = await incoming.read();
          if (done) return;
          const duplex = new WebStreamDuplex(bidi);
          streams.add(duplex);
          duplex.once('close', () => streams.delete(duplex));
          this.endpoint.attach(duplex, peer);
        }
      } catch {
        ended();
      }
    })();
  }

  async stop(drain: Promise<void>): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await drain;
    for (const s of this.sessions) {
      try {
        s.close({ closeCode: 0, reason: 'server shutting down' });
      } catch {
        // already closing
      }
    }
    server.stopServer();
    await Promise.race([server.closed, new Promise<void>((resolve) => setTimeout(resolve, 500).unref())]);
    this.log.info({}, 'listener_stopped');
  }
}
