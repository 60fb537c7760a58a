/**
 * The MQTT byte stream of one QUIC connection, as the engine reads and writes it.
 *
 * Single-stream mode: the first bidirectional stream carries MQTT exactly as TCP does, and this
 * duplex passes its packets through.
 *
 * Multi-stream mode (EMQX's): the first stream is the control stream (CONNECT, CONNACK, PINGREQ,
 * DISCONNECT, AUTH); further client-opened bidirectional streams carry PUBLISH, SUBSCRIBE and
 * UNSUBSCRIBE. Every stream is cut into whole packets and merged into the engine's input; each
 * packet the engine writes goes back where it belongs: acknowledgements on the stream that
 * carried the request, deliveries on the stream whose SUBSCRIBE the topic matches (the most
 * recent matching subscription made on this connection; else the control stream), a PUBREL on
 * the stream of its PUBLISH. A data stream that ends or fails is dropped; the connection lives
 * on. The control stream ending ends the connection.
 */
import { Duplex } from 'node:stream';
import { parseSubscriptionFilter, topicMatches, type Logger } from '@junction/broker-core';
import { connectVersion, packetId, PacketFramer, publishId, publishQos, PT, readFilters, readHeader, readPublish, type Framed, type PacketSpan } from './framer.js';
import type { QuicStreamDuplex } from './stream-duplex.js';

/** Bytes the engine may write ahead of QUIC before it sees back-pressure. */
const SEND_BUFFER = 256 * 1024;

/** Most topics remembered for delivery routing before the cache starts over. */
const ROUTE_CACHE_SIZE = 4096;

interface Source {
  readonly stream: QuicStreamDuplex;
  readonly framer: PacketFramer;
  readonly control: boolean;
}

export class QuicSessionStream extends Duplex {
  private control: Source | undefined;
  private readonly sources = new Set<Source>();
  /** Protocol level from CONNECT: MQTT 5 packets carry properties. */
  private v5 = false;
  /** A data stream was opened: from then on packets are routed one by one. */
  private multi = false;
  private paused = false;
  // Routing tables, filled from what data streams carry (control-stream entries are the default).
  /** Client packet id of a PUBLISH or PUBREL -> stream for its PUBACK, PUBREC or PUBCOMP. */
  private readonly inbound = new Map<number, QuicStreamDuplex>();
  /** Packet id of a SUBSCRIBE or UNSUBSCRIBE -> stream for its SUBACK or UNSUBACK. */
  private readonly requests = new Map<number, QuicStreamDuplex>();
  /** Subscribed filter (as sent) -> its plain filter and stream; the most recent last. */
  private readonly filters = new Map<string, { plain: string; stream: QuicStreamDuplex }>();
  /** Server packet id of a delivery -> its stream, for the PUBREL. */
  private readonly outbound = new Map<number, QuicStreamDuplex>();
  /** Outbound topic alias -> stream of the PUBLISH that set it. */
  private readonly aliases = new Map<number, QuicStreamDuplex>();
  private readonly routeCache = new Map<string, QuicStreamDuplex | undefined>();

  constructor(
    private readonly maxPacketSize: number,
    private readonly log: Logger,
  ) {
    // Like a socket's send buffer: bursts wait here while QUIC sends, before the engine sees
    // back-pressure (and the core starts queueing, then dropping QoS 0, for this client).
    super({ allowHalfOpen: false, writableHighWaterMark: SEND_BUFFER });
  }

  /** Data streams open now. */
  get dataStreams(): number {
    return this.sources.size - (this.control ? 1 : 0);
  }

  /** Add a client-opened bidirectional stream: the first is the control stream. */
  attach(stream: QuicStreamDuplex): void {
    if (this.destroyed) {
      stream.destroy();
      return;
    }
    // The engine's limit plus the largest fixed header: a longer packet breaks framing at once.
    const src: Source = { stream, framer: new PacketFramer(this.maxPacketSize + 5), control: !this.control };
    this.sources.add(src);
    if (src.control) {
      this.control = src;
      stream.on('end', () => this.push(null));
      stream.on('close', () => this.destroy());
    } else {
      this.multi = true;
      this.log.debug({ stream: stream.streamId }, 'quic_data_stream_opened');
      stream.on('close', () => {
        this.sources.delete(src);
        this.log.debug({ stream: stream.streamId }, 'quic_data_stream_closed');
      });
    }
    // Stream resets and aborts end up in 'close'; the reason only matters for debugging.
    stream.on('error', (err: Error) => this.log.debug({ stream: stream.streamId, err: err.message }, 'quic_stream_error'));
    stream.on('data', (chunk: Buffer) => this.onChunk(src, chunk));
    if (this.paused) stream.pause();
  }

  // ------------------------------------------------------------------ inbound

  private onChunk(src: Source, chunk: Buffer): void {
    const f = src.framer.push(chunk);
    if (src.control || this.multi) this.learn(src, f);
    if (f.bytes.length > 0 && !this.push(f.bytes)) this.pauseAll();
    if (f.broken) {
      // The engine reports the broken packet and closes the connection; read no further.
      src.stream.pause();
    }
  }

  /** Note where replies to the packets of `src` must go. */
  private learn(src: Source, f: Framed): void {
    const buf = f.bytes;
    const s = src.stream;
    for (const p of f.packets) {
      switch (p.type) {
        case PT.CONNECT:
          if (src.control) this.v5 = connectVersion(buf, p) === 5;
          break;
        case PT.PUBLISH:
          if (this.multi && publishQos(buf, p) > 0) this.remember(this.inbound, publishId(buf, p), s);
          break;
        case PT.PUBREL:
          if (this.multi) this.remember(this.inbound, packetId(buf, p), s);
          break;
        case PT.SUBSCRIBE:
          if (!this.multi) break;
          this.remember(this.requests, packetId(buf, p), s);
          for (const filter of readFilters(buf, p, this.v5)) {
            this.filters.delete(filter);
            this.filters.set(filter, { plain: parseSubscriptionFilter(filter).filter, stream: s });
          }
          this.routeCache.clear();
          break;
        case PT.UNSUBSCRIBE:
          if (!this.multi) break;
          this.remember(this.requests, packetId(buf, p), s);
          for (const filter of readFilters(buf, p, this.v5)) this.filters.delete(filter);
          this.routeCache.clear();
          break;
      }
    }
  }

  private remember(map: Map<number, QuicStreamDuplex>, id: number | undefined, s: QuicStreamDuplex): void {
    if (id === undefined) return;
    // A packet on the control stream is answered there: the default needs no entry.
    if (s === this.control?.stream) map.delete(id);
    else map.set(id, s);
  }

  private pauseAll(): void {
    this.paused = true;
    for (const s of this.sources) s.stream.pause();
  }

  override _read(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const s of this.sources) if (!s.framer.isBroken) s.stream.resume();
  }

  // ------------------------------------------------------------------ outbound

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const control = this.control?.stream;
    if (!control) return cb();
    if (!this.multi) {
      // Single-stream mode: everything goes to the one stream, in one write.
      control.write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb);
      return;
    }
    // Group consecutive packets bound for the same stream into one write.
    const writes: { target: QuicStreamDuplex; parts: Buffer[] }[] = [];
    for (const { chunk } of chunks) {
      let offset = 0;
      while (offset < chunk.length) {
        const h = readHeader(chunk, offset);
        const end = h ? h.body + h.length : chunk.length;
        const target = h ? this.routeOut(chunk, { type: h.type, start: offset, body: h.body, end }) : control;
        const last = writes[writes.length - 1];
        const part = chunk.subarray(offset, end);
        if (last && last.target === target) last.parts.push(part);
        else writes.push({ target, parts: [part] });
        offset = end;
      }
    }
    let left = writes.length;
    let failed: Error | null = null;
    const done = (err?: Error | null) => {
      if (err && !failed) failed = err;
      if (--left === 0) cb(failed);
    };
    for (const w of writes) {
      const target = w.target.writable ? w.target : control;
      target.write(w.parts.length === 1 ? w.parts[0]! : Buffer.concat(w.parts), (err) => done(target === control ? err : null));
    }
  }

  /** The stream one packet written by the engine goes to. */
  private routeOut(buf: Buffer, p: PacketSpan): QuicStreamDuplex {
    const control = this.control!.stream;
    switch (p.type) {
      case PT.PUBACK:
      case PT.PUBREC:
      case PT.PUBCOMP:
        return take(this.inbound, packetId(buf, p)) ?? control;
      case PT.SUBACK:
      case PT.UNSUBACK:
        return take(this.requests, packetId(buf, p)) ?? control;
      case PT.PUBREL: {
        const id = packetId(buf, p);
        return (id !== undefined ? this.outbound.get(id) : undefined) ?? control;
      }
      case PT.PUBLISH:
        return this.routeDelivery(buf, p) ?? control;
      default:
        // CONNACK, PINGRESP, DISCONNECT, AUTH: the control stream.
        return control;
    }
  }

  private routeDelivery(buf: Buffer, p: PacketSpan): QuicStreamDuplex | undefined {
    const pub = readPublish(buf, p, this.v5);
    if (!pub) return undefined;
    let target: QuicStreamDuplex | undefined;
    if (pub.topic === '' && pub.alias !== undefined) {
      target = this.aliases.get(pub.alias);
    } else {
      target = this.matchTopic(pub.topic);
      if (pub.alias !== undefined) {
        if (target) this.aliases.set(pub.alias, target);
        else this.aliases.delete(pub.alias);
      }
    }
    if (pub.id !== undefined) {
      // A PUBREC for this delivery is answered by a PUBREL on the same stream.
      if (target) this.outbound.set(pub.id, target);
      else this.outbound.delete(pub.id);
    }
    return target && !target.destroyed ? target : undefined;
  }

  /** The stream of the most recent subscription on this connection whose filter matches. */
  private matchTopic(topic: string): QuicStreamDuplex | undefined {
    if (this.filters.size === 0) return undefined;
    if (this.routeCache.has(topic)) return this.routeCache.get(topic);
    let found: QuicStreamDuplex | undefined;
    for (const { plain, stream } of this.filters.values()) if (topicMatches(plain, topic)) found = stream;
    if (this.routeCache.size >= ROUTE_CACHE_SIZE) this.routeCache.clear();
    this.routeCache.set(topic, found);
    return found;
  }

  override _final(cb: (err?: Error | null) => void): void {
    for (const s of this.sources) s.stream.end();
    cb();
    // Ended before the client opened any stream (idle_timeout before CONNECT): there is no peer
    // stream whose end would close us, so close now rather than when the engine gives up.
    if (!this.control) process.nextTick(() => this.destroy());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    for (const s of this.sources) s.stream.destroy();
    this.sources.clear();
    cb(err);
  }
}

function take(map: Map<number, QuicStreamDuplex>, id: number | undefined): QuicStreamDuplex | undefined {
  if (id === undefined) return undefined;
  const s = map.get(id);
  if (s) map.delete(id);
  return s;
}
