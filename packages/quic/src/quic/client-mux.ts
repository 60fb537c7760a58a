/**
 * Client side of multi-stream mode, for MQTT.js and other single-stream clients: one duplex in
 * which CONNECT, PINGREQ, DISCONNECT and AUTH go on the control stream, PUBLISH (and its PUBREL)
 * on a publish stream, SUBSCRIBE and UNSUBSCRIBE on a subscription stream (where the broker sends
 * their acknowledgements and deliveries), and acknowledgements of deliveries on the stream the
 * delivery came on. Data streams are opened on first use; one that fails is opened anew.
 */
import { Duplex } from 'node:stream';
import { packetId, PacketFramer, publishId, publishQos, PT, type PacketSpan } from './framer.js';
import type { QuicStreamDuplex } from './stream-duplex.js';

export class ClientMultiStream extends Duplex {
  private readonly outFramer = new PacketFramer();
  private readonly streams = new Set<QuicStreamDuplex>();
  private publishStream: QuicStreamDuplex | undefined;
  private subscribeStream: QuicStreamDuplex | undefined;
  /** Packet id of a delivery (or server PUBREL) -> the stream it came on, for our ack. */
  private readonly deliveries = new Map<number, QuicStreamDuplex>();
  private paused = false;

  constructor(
    private readonly control: QuicStreamDuplex,
    private readonly openStream: () => QuicStreamDuplex,
  ) {
    super({ allowHalfOpen: false });
    this.add(control);
    control.on('end', () => this.push(null));
    control.on('close', () => this.destroy());
  }

  private add(stream: QuicStreamDuplex): void {
    this.streams.add(stream);
    const framer = new PacketFramer();
    stream.on('data', (chunk: Buffer) => {
      const f = framer.push(chunk);
      for (const p of f.packets) {
        if ((p.type === PT.PUBLISH && publishQos(f.bytes, p) > 0) || p.type === PT.PUBREL) {
          const id = p.type === PT.PUBLISH ? publishId(f.bytes, p) : packetId(f.bytes, p);
          if (id !== undefined) this.deliveries.set(id, stream);
        }
      }
      if (f.bytes.length > 0 && !this.push(f.bytes)) this.pauseAll();
      if (f.broken) this.destroy(new Error('malformed MQTT packet from the server'));
    });
    stream.on('error', () => {});
    stream.on('close', () => {
      this.streams.delete(stream);
      if (this.publishStream === stream) this.publishStream = undefined;
      if (this.subscribeStream === stream) this.subscribeStream = undefined;
    });
    if (this.paused) stream.pause();
  }

  private pauseAll(): void {
    this.paused = true;
    for (const s of this.streams) s.pause();
  }

  override _read(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const s of this.streams) s.resume();
  }

  private dataStream(kind: 'publish' | 'subscribe'): QuicStreamDuplex {
    let s = kind === 'publish' ? this.publishStream : this.subscribeStream;
    if (!s || !s.writable) {
      s = this.openStream();
      this.add(s);
      if (kind === 'publish') this.publishStream = s;
      else this.subscribeStream = s;
    }
    return s;
  }

  private route(buf: Buffer, p: PacketSpan): QuicStreamDuplex {
    switch (p.type) {
      case PT.PUBLISH:
      case PT.PUBREL:
        return this.dataStream('publish');
      case PT.SUBSCRIBE:
      case PT.UNSUBSCRIBE:
        return this.dataStream('subscribe');
      case PT.PUBACK:
      case PT.PUBREC:
      case PT.PUBCOMP: {
        const id = packetId(buf, p);
        const s = id !== undefined ? this.deliveries.get(id) : undefined;
        if (id !== undefined && p.type !== PT.PUBREC) this.deliveries.delete(id);
        return s && s.writable ? s : this.control;
      }
      default:
        return this.control;
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const f = this.outFramer.push(chunk);
    if (f.broken) return cb(new Error('malformed MQTT packet written'));
    // Take the next chunk at once unless a stream is full: writes reach QUIC in batches.
    const full = new Set<QuicStreamDuplex>();
    for (const p of f.packets) {
      const target = this.route(f.bytes, p);
      if (!target.write(f.bytes.subarray(p.start, p.end))) full.add(target);
    }
    if (full.size === 0) return cb();
    let left = full.size;
    for (const s of full) {
      const go = () => {
        s.off('drain', go);
        s.off('close', go);
        if (--left === 0) cb();
      };
      s.on('drain', go);
      s.on('close', go);
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    for (const s of this.streams) s.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    for (const s of this.streams) s.destroy();
    cb(err);
  }
}
