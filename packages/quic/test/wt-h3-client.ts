/**
 * A minimal WebTransport-over-HTTP/3 client for the tests, on @matrixai/quic and the package's
 * own HTTP/3 codec: it does what a browser does (control stream with SETTINGS, extended CONNECT,
 * bidirectional streams prefixed with 0x41 and the session id) and lets a test break any step.
 */
import { webcrypto } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { events, QUICClient, type QUICStream } from '@matrixai/quic';
import { WebStreamDuplex } from '../src/webtransport/stream-duplex.js';
import { encodeFrame, encodeSettings, FRAME, FrameReader, SETTING, STREAM_TYPE } from '../src/webtransport/h3/frames.js';
import { decodeFieldSection, encodeFieldSection, type HeaderList } from '../src/webtransport/h3/qpack.js';
import { encodeVarint } from '../src/webtransport/h3/varint.js';

const quiet = { getChild: () => quiet, info: () => {}, debug: () => {}, warn: () => {}, error: () => {} };

/** How the peer closed the connection, once it did. */
export interface PeerClose {
  readonly isApp: boolean;
  readonly errorCode: number;
}

export class H3TestClient {
  /** Resolves when the connection is gone; with the peer's close code when it closed it. */
  readonly closed: Promise<PeerClose | undefined>;

  private constructor(readonly quic: QUICClient) {
    let resolve!: (c: PeerClose | undefined) => void;
    this.closed = new Promise((r) => (resolve = r));
    let peerClose: PeerClose | undefined;
    quic.addEventListener(events.EventQUICClientError.name, (evt: Event) => {
      const data = (evt as unknown as { detail: { data?: { isApp: boolean; errorCode: number } } }).detail?.data;
      if (data && typeof data.errorCode === 'number') peerClose ??= { isApp: data.isApp, errorCode: data.errorCode };
    });
    quic.connection.closedP.then(
      () => resolve(peerClose),
      () => resolve(peerClose),
    );
  }

  static async connect(port: number, opts: { alpn?: string } = {}): Promise<H3TestClient> {
    const quic = await QUICClient.createQUICClient(
      {
        host: '127.0.0.1',
        port,
        localHost: '127.0.0.1',
        crypto: { ops: { randomBytes: async (data: ArrayBuffer) => void webcrypto.getRandomValues(new Uint8Array(data)) } },
        logger: quiet as never,
        config: { applicationProtos: [opts.alpn ?? 'h3'], verifyPeer: false, maxIdleTimeout: 10_000, keepAliveIntervalTime: 1000 },
        reasonToCode: () => 0x10c,
        codeToReason: (_t, code) => new Error(`reset ${code}`),
      },
      { timer: 5000 },
    );
    return new H3TestClient(quic);
  }

  /** Open our control stream with SETTINGS (or `bytes` instead, to break it). */
  async openControl(bytes?: Uint8Array): Promise<QUICStream> {
    const s = this.quic.connection.newStream('uni');
    const w = s.writable.getWriter();
    await w.write(
      bytes ??
        Buffer.concat([
          encodeVarint(STREAM_TYPE.CONTROL),
          encodeSettings(new Map([[SETTING.ENABLE_CONNECT_PROTOCOL, 1], [SETTING.H3_DATAGRAM, 1], [SETTING.ENABLE_WEBTRANSPORT, 1]])),
        ]),
    );
    w.releaseLock();
    return s;
  }

  /** Send a request's HEADERS on a new stream; resolves with the response headers (or undefined if the stream ended). */
  async request(headers: HeaderList): Promise<{ status: number | undefined; stream: QUICStream; headers: HeaderList | undefined }> {
    const stream = this.quic.connection.newStream('bidi');
    const w = stream.writable.getWriter();
    await w.write(encodeFrame(FRAME.HEADERS, encodeFieldSection(headers, { huffman: true })));
    w.releaseLock();
    const reader = stream.readable.getReader();
    const frames = new FrameReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const h = frames.push(value).find((f) => f.type === FRAME.HEADERS);
        if (h) {
          const list = decodeFieldSection(h.payload);
          reader.releaseLock();
          return { status: Number(list.find(([n]) => n === ':status')?.[1]), stream, headers: list };
        }
      }
    } catch {
      // reset by the server
    }
    return { status: undefined, stream, headers: undefined };
  }

  /** Open a WebTransport session on `path` the way Chromium does. */
  async session(path = '/mqtt', port = 0): Promise<{ status: number | undefined; id: number; connect: QUICStream }> {
    const r = await this.request([
      [':method', 'CONNECT'],
      [':protocol', 'webtransport'],
      [':scheme', 'https'],
      [':authority', `127.0.0.1:${port}`],
      [':path', path],
      ['origin', 'https://127.0.0.1'],
    ]);
    return { status: r.status, id: r.stream.streamId as number, connect: r.stream };
  }

  /** A WebTransport bidirectional stream of session `id`, as a Node duplex. */
  async openStream(sessionId: number): Promise<Duplex> {
    const s = this.quic.connection.newStream('bidi');
    const writer = s.writable.getWriter();
    await writer.write(Buffer.concat([encodeVarint(FRAME.WEBTRANSPORT_STREAM), encodeVarint(sessionId)]));
    return new WebStreamDuplex(s, { writer });
  }

  async close(): Promise<void> {
    await this.quic.destroy({ isApp: true, errorCode: 0x100, force: true }).catch(() => {});
  }
}
