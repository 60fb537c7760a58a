/**
 * The server side of one HTTP/3 connection that serves WebTransport sessions (RFC 9114, RFC 9204
 * with the static table only, RFC 9220 extended CONNECT, draft-ietf-webtransport-http3):
 *
 * - our control stream carries SETTINGS (extended CONNECT, H3 datagrams, WebTransport);
 * - the peer's control, QPACK encoder and QPACK decoder streams are read and checked;
 * - a request stream whose HEADERS are an extended CONNECT `:protocol webtransport` to an
 *   accepted path opens a session (answered `:status 200`); other requests get their status
 *   (404 for another path) and the stream ends;
 * - a bidirectional stream that starts with 0x41 and a session id is a WebTransport stream of
 *   that session, handed over with the bytes after its prefix.
 *
 * A violation closes the QUIC connection with the H3 error code (scope `connection`) or resets
 * the one stream (scope `stream`); it never throws out of this class.
 */
import { events, type QUICConnection, type QUICStream } from '@matrixai/quic';
import type { Logger } from '@junction/broker-core';
import { H3, H3Error } from './errors.js';
import { decodeSettings, encodeFrame, encodeSettings, FRAME, FrameReader, isHttp2Frame, isReservedType, SETTING, STREAM_TYPE } from './frames.js';
import { decodeFieldSection, encodeFieldSection, MAX_FIELD_SECTION_SIZE, type HeaderList } from './qpack.js';
import { parseConnect, type ConnectRequest } from './request.js';
import { WtSession } from './session.js';
import { encodeVarint, readVarint } from './varint.js';

/** What the owner of the connection decides and receives. */
export interface H3ConnectionHooks {
  /** The HTTP status for an extended CONNECT (200 opens the session). */
  accept(req: ConnectRequest, conn: H3Connection): number;
  /** A session accepted with 200 is open (its end is announced through `WtSession.onClose`). */
  opened(session: WtSession): void;
  /** A WebTransport bidirectional stream of an open session, its reader past the prefix. */
  stream(session: WtSession, stream: QUICStream, reader: ReadableStreamDefaultReader<Uint8Array>, head: Buffer): void;
}

/** Settings we send: extended CONNECT, H3 datagrams, WebTransport, no dynamic QPACK table. */
function serverSettings(maxSessions: number): Map<number, number> {
  return new Map([
    [SETTING.MAX_FIELD_SECTION_SIZE, MAX_FIELD_SECTION_SIZE],
    [SETTING.ENABLE_CONNECT_PROTOCOL, 1],
    [SETTING.H3_DATAGRAM, 1],
    [SETTING.ENABLE_WEBTRANSPORT, 1],
    [SETTING.WEBTRANSPORT_MAX_SESSIONS, maxSessions],
  ]);
}

/** Re-exported for the owners of connections. */
export { WtSession, type ConnectRequest };

export class H3Connection {
  readonly sessions = new Map<number, WtSession>();
  /** Peer SETTINGS, once its control stream delivered them. */
  peerSettings: Map<number, number> | undefined;
  private controlWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private readonly peerStreams = new Set<number>();
  private closing = false;
  private readonly log: Logger;

  constructor(
    readonly quic: QUICConnection,
    private readonly hooks: H3ConnectionHooks,
    private readonly opts: { maxSessions: number },
    log: Logger,
  ) {
    this.log = log;
  }

  /** `host:port` of the peer (its current address: QUIC connections may migrate). */
  get peer(): string {
    return `${this.quic.remoteHost}:${this.quic.remotePort}`;
  }

  /** Open our control stream and start taking the peer's streams. */
  start(): void {
    this.quic.addEventListener(events.EventQUICConnectionStream.name, (evt: Event) => {
      this.onStream((evt as unknown as events.EventQUICConnectionStream).detail);
    });
    this.quic.addEventListener(
      events.EventQUICConnectionStopped.name,
      () => {
        for (const s of [...this.sessions.values()]) s.end();
      },
      { once: true },
    );
    try {
      const control = this.quic.newStream('uni');
      this.controlWriter = control.writable.getWriter();
      this.write(Buffer.concat([encodeVarint(STREAM_TYPE.CONTROL), encodeSettings(serverSettings(this.opts.maxSessions))]));
    } catch (err) {
      this.log.debug({ peer: this.peer, err: String(err) }, 'h3_control_stream_failed');
    }
  }

  private write(data: Buffer): void {
    this.controlWriter?.write(data).catch(() => {});
  }

  private onStream(stream: QUICStream): void {
    if (this.closing) {
      reset(stream, new H3Error(H3.REQUEST_REJECTED, 'going away', 'stream'));
      return;
    }
    if (stream.type === 'uni') void this.readUni(stream).catch((err: unknown) => this.onError(err, stream));
    else void this.readBidi(stream).catch((err: unknown) => this.onError(err, stream));
  }

  /** Map an error of one stream's reader to a stream reset or a connection close. */
  private onError(err: unknown, stream: QUICStream): void {
    if (!(err instanceof H3Error)) {
      // The stream was reset or the connection went away: nothing to answer.
      this.log.debug({ peer: this.peer, stream: stream.streamId, err: String(err) }, 'h3_stream_aborted');
      return;
    }
    if (err.scope === 'stream') {
      this.log.debug({ peer: this.peer, stream: stream.streamId, code: err.code, reason: err.message }, 'h3_stream_error');
      reset(stream, err);
      return;
    }
    this.fail(err);
  }

  /** Close the whole connection with an H3 error (RFC 9114 §8). */
  fail(err: H3Error): void {
    if (this.closing) return;
    this.closing = true;
    this.log.debug({ peer: this.peer, code: err.code, reason: err.message }, 'h3_connection_error');
    for (const s of [...this.sessions.values()]) s.end();
    void this.quic.stop({ isApp: true, errorCode: err.code, reason: Buffer.from(err.message.slice(0, 100)), force: true }).catch(() => {});
  }

  /**
   * Tell the peer no new requests will be taken (GOAWAY, §5.2), end every session, and close
   * the connection with H3_NO_ERROR once `drain` resolves.
   */
  async close(drain: Promise<void> = Promise.resolve()): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.write(encodeFrame(FRAME.GOAWAY, encodeVarint(0)));
    // The MQTT connections say goodbye over their streams first; then the sessions end.
    await drain;
    for (const s of [...this.sessions.values()]) s.end();
    await this.quic.stop({ isApp: true, errorCode: H3.NO_ERROR, reason: Buffer.alloc(0), force: true }).catch(() => {});
  }

  // ------------------------------------------------------------------ unidirectional streams

  private async readUni(stream: QUICStream): Promise<void> {
    const reader = stream.readable.getReader();
    const head = await readPrefixVarint(reader);
    if (!head) return; // ended before its type: nothing to do (§6.2)
    const { value: type, rest } = head;
    switch (type) {
      case STREAM_TYPE.CONTROL:
        return this.readControl(reader, rest);
      case STREAM_TYPE.QPACK_ENCODER:
      case STREAM_TYPE.QPACK_DECODER:
        return this.readQpack(type, reader, rest);
      case STREAM_TYPE.PUSH:
        // §6.2.2: only servers push.
        throw new H3Error(H3.STREAM_CREATION_ERROR, 'client opened a push stream');
      default:
        // §6.2: unknown types (and WebTransport unidirectional streams, which MQTT does not use)
        // are not read; STOP_SENDING tells the peer.
        await reader.cancel(new H3Error(H3.STREAM_CREATION_ERROR, 'stream type not served', 'stream')).catch(() => {});
    }
  }

  private once(type: number): void {
    if (this.peerStreams.has(type)) throw new H3Error(H3.STREAM_CREATION_ERROR, `second stream of type 0x${type.toString(16)}`);
    this.peerStreams.add(type);
  }

  private async readControl(reader: ReadableStreamDefaultReader<Uint8Array>, head: Buffer): Promise<void> {
    this.once(STREAM_TYPE.CONTROL);
    const frames = new FrameReader();
    const onFrame = (f: { type: number; payload: Buffer }): void => {
      if (!this.peerSettings) {
        // §6.2.1: SETTINGS is the first frame of the control stream.
        if (f.type !== FRAME.SETTINGS) throw new H3Error(H3.MISSING_SETTINGS, 'control stream did not start with SETTINGS');
        this.peerSettings = decodeSettings(f.payload);
        return;
      }
      switch (f.type) {
        case FRAME.SETTINGS:
        case FRAME.DATA:
        case FRAME.HEADERS:
        case FRAME.PUSH_PROMISE:
          throw new H3Error(H3.FRAME_UNEXPECTED, `frame 0x${f.type.toString(16)} on the control stream`);
        case FRAME.GOAWAY:
        case FRAME.MAX_PUSH_ID:
        case FRAME.CANCEL_PUSH:
          return; // no pushes, and the client's GOAWAY limits pushes only
        default:
          if (isHttp2Frame(f.type)) throw new H3Error(H3.FRAME_UNEXPECTED, `HTTP/2 frame 0x${f.type.toString(16)}`);
      }
    };
    for (const f of frames.push(head)) onFrame(f);
    for (;;) {
      const { value, done } = await reader.read();
      // §6.2.1: closing the control stream is a connection error.
      if (done) throw new H3Error(H3.CLOSED_CRITICAL_STREAM, 'control stream closed');
      for (const f of frames.push(value)) onFrame(f);
    }
  }

  /**
   * With a dynamic table capacity of 0 the encoder stream may only say "capacity 0"
   * (RFC 9204 §4.3.1); decoder stream instructions (section acknowledgements, stream
   * cancellations) need no action from an encoder that uses the static table only.
   */
  private async readQpack(type: number, reader: ReadableStreamDefaultReader<Uint8Array>, head: Buffer): Promise<void> {
    this.once(type);
    const check = (chunk: Uint8Array): void => {
      if (type !== STREAM_TYPE.QPACK_ENCODER) return;
      for (const b of chunk) {
        // Set Dynamic Table Capacity 0 is the byte 0x20; anything else inserts or sets a capacity.
        if (b !== 0x20) throw new H3Error(H3.QPACK_ENCODER_STREAM_ERROR, 'encoder stream instruction beyond capacity 0');
      }
    };
    check(head);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new H3Error(H3.CLOSED_CRITICAL_STREAM, 'QPACK stream closed');
      check(value);
    }
  }

  // ------------------------------------------------------------------ bidirectional streams

  private async readBidi(stream: QUICStream): Promise<void> {
    const reader = stream.readable.getReader();
    // A stream that ends inside its first varint, or inside a WebTransport prefix, is reset.
    const incomplete = () => new H3Error(H3.REQUEST_INCOMPLETE, 'stream ended inside its prefix', 'stream');
    const first = await readPrefixVarint(reader);
    if (!first) throw incomplete();
    if (first.value === FRAME.WEBTRANSPORT_STREAM) {
      const sid = await readPrefixVarint(reader, first.rest);
      if (!sid) throw incomplete();
      const session = this.sessions.get(sid.value);
      if (!session || session.ended) {
        // No such session (never opened, or gone): the stream is refused.
        throw new H3Error(H3.WT_SESSION_GONE, `no session ${sid.value}`, 'stream');
      }
      this.hooks.stream(session, stream, reader, sid.rest);
      return;
    }
    return this.readRequest(stream, reader, Buffer.concat([encodeVarint(first.value), first.rest]));
  }

  private async readRequest(stream: QUICStream, reader: ReadableStreamDefaultReader<Uint8Array>, head: Buffer): Promise<void> {
    const frames = new FrameReader();
    let pending = frames.push(head);
    let headers: HeaderList | undefined;
    while (!headers) {
      for (const f of pending) {
        if (f.type === FRAME.HEADERS) {
          headers = decodeFieldSection(f.payload);
          break;
        }
        // §4.1: a request starts with HEADERS; DATA first is malformed. Unknown frames are skipped.
        if (f.type === FRAME.DATA) throw new H3Error(H3.FRAME_UNEXPECTED, 'DATA before HEADERS');
        if (f.type === FRAME.SETTINGS || f.type === FRAME.GOAWAY || f.type === FRAME.MAX_PUSH_ID || f.type === FRAME.CANCEL_PUSH || f.type === FRAME.PUSH_PROMISE || isHttp2Frame(f.type)) {
          throw new H3Error(H3.FRAME_UNEXPECTED, `frame 0x${f.type.toString(16)} on a request stream`);
        }
        // Unknown and reserved frame types are skipped (§9).
      }
      if (headers) break;
      const { value, done } = await reader.read();
      if (done) throw new H3Error(H3.REQUEST_INCOMPLETE, 'request ended before its HEADERS', 'stream');
      pending = frames.push(value);
    }
    const writer = stream.writable.getWriter();
    const respond = async (status: number, end: boolean): Promise<void> => {
      await writer.write(encodeFrame(FRAME.HEADERS, encodeFieldSection([[':status', String(status)]])));
      if (end) await writer.close();
    };
    const req = parseConnect(headers);
    if (typeof req === 'number') {
      await respond(req, true);
      await reader.cancel(new H3Error(H3.NO_ERROR, 'response complete', 'stream')).catch(() => {});
      return;
    }
    if (this.closing) {
      await respond(503, true);
      return;
    }
    const status = this.hooks.accept(req, this);
    if (status !== 200) {
      this.log.debug({ peer: this.peer, path: req.path, status }, 'wt_session_refused');
      await respond(status, true);
      await reader.cancel(new H3Error(H3.NO_ERROR, 'response complete', 'stream')).catch(() => {});
      return;
    }
    const session = new WtSession(stream.streamId, req, this);
    this.sessions.set(session.id, session);
    this.hooks.opened(session);
    session.onClose(() => {
      // Our half of the CONNECT stream ends with the session.
      writer.close().catch(() => {});
    });
    await respond(200, false);
    this.log.debug({ peer: this.peer, session: session.id, path: req.path }, 'wt_session_opened');
    // The CONNECT stream now carries capsules (RFC 9297) in DATA frames; none need an answer.
    // Its end, or a reset, ends the session.
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const f of frames.push(value)) {
          if (f.type === FRAME.HEADERS || f.type === FRAME.DATA || isReservedType(f.type)) continue;
          if (isHttp2Frame(f.type) || f.type === FRAME.SETTINGS || f.type === FRAME.GOAWAY || f.type === FRAME.PUSH_PROMISE) {
            throw new H3Error(H3.FRAME_UNEXPECTED, `frame 0x${f.type.toString(16)} on a CONNECT stream`);
          }
        }
      }
    } finally {
      this.log.debug({ peer: this.peer, session: session.id }, 'wt_session_closed');
      session.end();
    }
  }
}

/** Reset both directions of a stream with the error's code; a stream already gone is left alone. */
function reset(stream: QUICStream, err: H3Error): void {
  try {
    stream.cancel(err);
  } catch {
    // the library refuses once the stream or the connection is closed
  }
}

/**
 * Read one varint from the front of a stream; the bytes read past it come back as `rest`.
 * Undefined when the stream ends first.
 */
async function readPrefixVarint(reader: ReadableStreamDefaultReader<Uint8Array>, head: Buffer = Buffer.alloc(0)): Promise<{ value: number; rest: Buffer } | undefined> {
  let buf = head;
  for (;;) {
    const v = readVarint(buf);
    if (v) return { value: v.value, rest: buf.subarray(v.size) };
    const { value, done } = await reader.read();
    if (done) return undefined;
    buf = Buffer.concat([buf, value]);
  }
}
