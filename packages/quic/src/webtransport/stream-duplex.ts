/**
 * A WebTransport bidirectional stream (a WHATWG ReadableStream and WritableStream pair, as both
 * @matrixai/quic and @fails-components/webtransport hand them out) as the Node duplex the MQTT
 * engine reads and writes. Reading is pulled (back-pressure reaches the QUIC flow control);
 * each write resolves when the transport took it. Ending the duplex sends FIN; destroying it
 * before that resets the stream.
 */
import { Duplex } from 'node:stream';

export interface WebByteStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

export class WebStreamDuplex extends Duplex {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private reading = false;
  private ended = false;

  /**
   * `reader` and `writer` may be passed when the caller already locked the stream (it read a
   * prefix); `head` is data read past that prefix, delivered first.
   */
  constructor(
    stream: WebByteStream,
    opts: { reader?: ReadableStreamDefaultReader<Uint8Array>; writer?: WritableStreamDefaultWriter<Uint8Array>; head?: Uint8Array; resetReason?: () => unknown } = {},
  ) {
    super({ allowHalfOpen: false });
    this.reader = opts.reader ?? stream.readable.getReader();
    this.writer = opts.writer ?? stream.writable.getWriter();
    this.resetReason = opts.resetReason ?? (() => undefined);
    if (opts.head && opts.head.length > 0) this.push(Buffer.from(opts.head));
    // The peer resetting or stopping its side ends us as well.
    this.writer.closed.catch((err: unknown) => this.destroy(asError(err)));
  }

  private readonly resetReason: () => unknown;

  override _read(): void {
    if (this.reading) return;
    this.reading = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await this.reader.read();
        if (done) {
          this.push(null);
          return;
        }
        if (value.length > 0 && !this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) break;
      }
    } catch (err) {
      this.destroy(asError(err));
      return;
    } finally {
      this.reading = false;
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writeChunk(chunk, cb);
  }

  private writeChunk(chunk: Buffer, cb: (err?: Error | null) => void): void {
    this.writer.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).then(
      () => cb(),
      (err: unknown) => cb(asError(err)),
    );
  }

  /** Chunks written in one batch (the engine corks per tick) leave in one stream write. */
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.writeChunk(Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.ended = true;
    this.writer.close().then(
      () => cb(),
      () => cb(),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const reason = this.resetReason();
    this.reader.cancel(reason).catch(() => {});
    if (!this.ended) this.writer.abort(reason).catch(() => {});
    cb(err);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
