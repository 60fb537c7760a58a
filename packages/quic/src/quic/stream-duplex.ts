/**
 * A QUIC bidirectional stream of @matrixai/quic (web streams) as a Node duplex: what the MQTT
 * engine and MQTT.js read and write. Reads wait while the consumer is full; a write completes
 * once quiche took the bytes (its flow control is the back-pressure). End sends FIN; destroy
 * resets both directions.
 */
import { Duplex } from 'node:stream';
import type { QUICStream } from '@matrixai/quic';

export class QuicStreamDuplex extends Duplex {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private reading = false;

  constructor(readonly quic: QUICStream) {
    super({ allowHalfOpen: false });
    this.reader = quic.readable.getReader();
    this.writer = quic.writable.getWriter();
    // Failures surface through read() and write(); these promises must not go unhandled.
    this.reader.closed.catch(() => {});
    this.writer.closed.catch(() => {});
  }

  /** The QUIC stream id (0 is the first stream a client opens). */
  get streamId(): number {
    return this.quic.streamId;
  }

  override _read(): void {
    if (!this.reading) void this.pump();
  }

  private async pump(): Promise<void> {
    this.reading = true;
    try {
      for (;;) {
        const { value, done } = await this.reader.read();
        if (done) {
          this.push(null);
          return;
        }
        const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        if (!this.push(buf)) return;
      }
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.reading = false;
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writer.write(chunk).then(
      () => cb(),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this._write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), 'binary', cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.writer.close().then(
      () => cb(),
      () => cb(), // the peer reset the stream already: nothing left to finish
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.quic.closed) {
      try {
        this.quic.cancel(err ?? undefined);
      } catch {
        // the connection is gone already
      }
    }
    cb(err);
  }
}
