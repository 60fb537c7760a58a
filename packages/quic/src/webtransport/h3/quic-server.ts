/**
 * The QUIC side of the HTTP/3 endpoint: a @matrixai/quic server with ALPN `h3`, connection ids
 * derived with an HMAC key of its own, and one H3Connection per accepted connection.
 *
 * A fault of @matrixai/quic 2.0.9 is worked around here: streams the peer opens in the packets
 * that complete the handshake are processed while the connection is still `starting`, and the
 * library then shuts them down (the peer's control stream among them: the browser fails the
 * connection) or fails with InvalidStreamState. For the connections of this server only, stream
 * processing is deferred until the connection is started and handed to us; quiche keeps the
 * streams readable meanwhile.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { events, QUICServer, type QUICConnection } from '@matrixai/quic';
import { lightenConnection } from '../../quic/lighten.js';

export interface H3QuicServerOptions {
  readonly host: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  /** Milliseconds without packets before a connection is closed; 0: never. */
  readonly idleTimeout: number;
  /** Bidirectional streams a client may open (CONNECT streams and WebTransport streams). */
  readonly maxStreamsBidi: number;
  /** Map a stream error reason to the code sent in RESET_STREAM or STOP_SENDING. */
  readonly reasonToCode: (type: 'read' | 'write', reason?: unknown) => number;
  readonly onConnection: (conn: QUICConnection) => void;
}

type QUICServerLogger = NonNullable<ConstructorParameters<typeof QUICServer>[0]['logger']>;

/**
 * The library logs through @matrixai/logger, to stderr by default; it is given a logger that
 * drops everything (it calls only getChild, info and debug).
 */
const silentQuicLogger = {
  getChild: () => silentQuicLogger,
  info: () => {},
  debug: () => {},
  warn: () => {},
  error: () => {},
};

/** How long a QUIC handshake may take. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Connections whose streams may be processed (started and handed to the H3 layer). */
const released = new WeakSet<QUICConnection>();

interface PatchableConnection {
  processStreams(): void;
}

export async function startH3QuicServer(opts: H3QuicServerOptions): Promise<QUICServer> {
  const hmacKey = randomBytes(32);
  const sign = (data: ArrayBuffer): ArrayBuffer => {
    const mac = createHmac('sha256', hmacKey).update(Buffer.from(data)).digest();
    return mac.buffer.slice(mac.byteOffset, mac.byteOffset + mac.byteLength);
  };
  const server = new QUICServer({
    crypto: {
      key: hmacKey.buffer.slice(hmacKey.byteOffset, hmacKey.byteOffset + hmacKey.byteLength),
      ops: {
        sign: async (_key, data) => sign(data),
        verify: async (_key, data, sig) => {
          const expected = Buffer.from(sign(data));
          const given = Buffer.from(sig);
          return expected.length === given.length && timingSafeEqual(expected, given);
        },
      },
    },
    config: {
      key: opts.key,
      cert: opts.cert,
      verifyPeer: false,
      applicationProtos: ['h3'],
      maxIdleTimeout: opts.idleTimeout,
      initialMaxStreamsBidi: opts.maxStreamsBidi,
      // Control, QPACK encoder and decoder streams, and a few the peer may open and we refuse.
      initialMaxStreamsUni: 16,
      // H3_DATAGRAM is announced in SETTINGS, which requires the QUIC datagram extension.
      enableDgram: [true, 16, 16],
    },
    // A handshake must complete within this, even when the idle timeout is off.
    minIdleTimeout: HANDSHAKE_TIMEOUT_MS,
    reasonToCode: opts.reasonToCode,
    codeToReason: (type, code) => new Error(`stream ${type === 'read' ? 'reset' : 'stopped'} by the peer with code 0x${code.toString(16)}`),
    // The library's own logs stay quiet; ours carry the events that matter.
    logger: silentQuicLogger as unknown as QUICServerLogger,
  });
  deferStreamsUntilStarted(server);
  server.addEventListener(events.EventQUICServerConnection.name, (evt: Event) => {
    const conn = (evt as unknown as events.EventQUICServerConnection).detail;
    opts.onConnection(conn);
    released.add(conn);
    // Streams that arrived while the connection was starting.
    (conn as unknown as PatchableConnection).processStreams();
  });
  // Errors of single connections reach the server as events; they are not the server's.
  server.addEventListener(events.EventQUICServerError.name, () => {});
  await server.start({ host: opts.host, port: opts.port });
  return server;
}

/**
 * Every connection of `server` dispatches its events to the server's connection handler first
 * (EventQUICConnectionStart before any packet is processed): wrap that handler to hold back
 * stream processing on each new connection until it is released.
 */
function deferStreamsUntilStarted(server: QUICServer): void {
  const s = server as unknown as { handleEventQUICConnection: (evt: Event) => void };
  const original = s.handleEventQUICConnection;
  // Another version of the library without this handler: nothing to wrap (and, hopefully, no fault).
  if (typeof original !== 'function') return;
  const patched = new WeakSet<object>();
  s.handleEventQUICConnection = (evt: Event) => {
    const target = evt.target as (QUICConnection & PatchableConnection) | null;
    if (target && !patched.has(target)) {
      patched.add(target);
      // The light receive lock, as for MQTT over QUIC. Not the coalesced send: with it, MQTT
      // over HTTP/3 sessions stalled in the tests (not understood yet), so HTTP/3 sends at once.
      lightenConnection(target, { coalesce: false });
      const process = Object.getPrototypeOf(target).processStreams as (() => void) | undefined;
      if (typeof process === 'function') {
        target.processStreams = function (this: QUICConnection) {
          if (released.has(this)) process.call(this);
        };
      }
    }
    original(evt);
  };
}
