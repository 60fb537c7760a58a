/**
 * A WebSocket as the byte stream the MQTT engine reads and writes: binary messages are pushed as
 * they come (any split of MQTT packets; the engine's parser reassembles), writes leave as binary
 * messages. A text message breaks the MQTT-over-WebSocket rule (binary frames only) and closes
 * the connection with 1003.
 */
import { Duplex } from 'node:stream';
import WebSocket from 'ws';

/** RFC 6455 §7.4.1 close codes this transport sends. */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  INTERNAL_ERROR: 1011,
} as const;

export interface WebSocketStreamOptions {
  /** `multiple`: chunks written in one batch (the engine corks per tick) leave in one message. */
  readonly piggyback: 'multiple' | 'single';
}

export class WebSocketStream extends Duplex {
  /** The close code sent when the stream ends normally: 1000, or 1001 while the server stops. */
  closeCode: number = CLOSE.NORMAL;

  constructor(
    readonly ws: WebSocket,
    opts: WebSocketStreamOptions,
  ) {
    super({
      allowHalfOpen: false,
      // Without writev, Node hands each corked chunk to _write: one MQTT packet per message.
      ...(opts.piggyback === 'multiple' ? { writev: (chunks, cb) => this.sendMessage(Buffer.concat(chunks.map((c) => c.chunk as Buffer)), cb) } : {}),
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        // MQTT over WebSocket is carried in binary frames only (MQTT 5.0 §6.0).
        if (ws.readyState === WebSocket.OPEN) ws.close(CLOSE.UNSUPPORTED_DATA, 'binary frames only');
        this.destroy();
        return;
      }
      if (!this.push(toBuffer(data))) ws.pause();
    });
    // Errors (oversized or malformed frames) are answered by ws with the matching close code.
    ws.on('error', (err) => this.emit('error', err));
    ws.on('close', () => {
      this.push(null);
      this.destroy();
    });
  }

  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sendMessage(chunk, cb);
  }

  private sendMessage(data: Buffer, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) return cb();
    // The callback fires once the frame is handed to the socket: back-pressure for the engine.
    this.ws.send(data, { binary: true }, (err) => cb(err ?? null));
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(this.closeCode);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Still open here means the stream was destroyed without ending (the engine gave up on a
    // client that stopped reading, or an error): cut the connection, as a TCP transport would.
    // After end() or a close frame we sent, ws is CLOSING and finishes the handshake (bounded
    // by its close timeout).
    const ws = this.ws;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    cb(err);
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
