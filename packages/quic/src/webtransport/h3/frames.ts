/**
 * HTTP/3 framing (RFC 9114 §7) and the stream and setting identifiers WebTransport over HTTP/3
 * uses (draft-ietf-webtransport-http3). Frames are `type length payload`, both varints; a
 * `FrameReader` takes stream bytes in any split and yields whole frames.
 */
import { H3, H3Error } from './errors.js';
import { encodeVarint, readVarint } from './varint.js';

export const FRAME = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
  /** On a bidirectional stream: not a frame but the signal that a WebTransport stream follows. */
  WEBTRANSPORT_STREAM: 0x41,
} as const;

/** HTTP/2 frame types that must not appear in HTTP/3 (§7.2.8). */
const HTTP2_ONLY_FRAMES = new Set([0x02, 0x06, 0x08, 0x09]);

/** Unidirectional stream types (§6.2, RFC 9204 §4.2, WebTransport). */
export const STREAM_TYPE = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
  WEBTRANSPORT: 0x54,
} as const;

export const SETTING = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  /** RFC 8441 / RFC 9220: extended CONNECT. */
  ENABLE_CONNECT_PROTOCOL: 0x08,
  /** RFC 9297. */
  H3_DATAGRAM: 0x33,
  /** draft-ietf-webtransport-http3 (the value Chromium checks). */
  ENABLE_WEBTRANSPORT: 0x2b603742,
  WEBTRANSPORT_MAX_SESSIONS: 0xc671706a,
} as const;

/** HTTP/2 setting identifiers that must not appear in HTTP/3 SETTINGS (§7.2.4.1). */
const HTTP2_ONLY_SETTINGS = new Set([0x02, 0x03, 0x04, 0x05]);

/** Largest frame payload buffered (HEADERS, SETTINGS, ...); DATA payloads are not buffered. */
export const MAX_FRAME_PAYLOAD = 64 * 1024;

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

export function isReservedType(type: number): boolean {
  // §7.2.8: 0x1f * N + 0x21 are reserved (greasing) and ignored.
  return type >= 0x21 && (type - 0x21) % 0x1f === 0;
}

/** `type` must not be received at all in HTTP/3. */
export function isHttp2Frame(type: number): boolean {
  return HTTP2_ONLY_FRAMES.has(type);
}

export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  return Buffer.concat([encodeVarint(type), encodeVarint(payload.length), payload]);
}

export function encodeSettings(settings: ReadonlyMap<number, number>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of settings) parts.push(encodeVarint(id), encodeVarint(value));
  return encodeFrame(FRAME.SETTINGS, Buffer.concat(parts));
}

/** The identifier/value pairs of a SETTINGS payload (§7.2.4). */
export function decodeSettings(payload: Uint8Array): Map<number, number> {
  const settings = new Map<number, number>();
  let pos = 0;
  while (pos < payload.length) {
    const id = readVarint(payload, pos);
    const value = id && readVarint(payload, pos + id.size);
    if (!id || !value) throw new H3Error(H3.FRAME_ERROR, 'truncated SETTINGS');
    if (settings.has(id.value)) throw new H3Error(H3.SETTINGS_ERROR, `duplicate setting 0x${id.value.toString(16)}`);
    if (HTTP2_ONLY_SETTINGS.has(id.value)) throw new H3Error(H3.SETTINGS_ERROR, `HTTP/2 setting 0x${id.value.toString(16)}`);
    settings.set(id.value, value.value);
    pos += id.size + value.size;
  }
  return settings;
}

/**
 * Reassembles frames from stream bytes. DATA payloads are passed through `onData` as they come
 * instead of being buffered (a DATA frame may be any size); other frames are buffered whole up
 * to MAX_FRAME_PAYLOAD, beyond which the peer gets H3_EXCESSIVE_LOAD.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes of a DATA payload still to pass through. */
  private dataLeft = 0;

  constructor(private readonly onData: (chunk: Buffer) => void = () => {}) {}

  /** Bytes held that do not yet make a frame. */
  get pending(): number {
    return this.buf.length + this.dataLeft;
  }

  /** Add bytes; returns the whole frames they complete, in order. */
  push(chunk: Uint8Array): Frame[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, this.buf.length);
        if (n === 0) break;
        this.onData(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        this.dataLeft -= n;
        continue;
      }
      const type = readVarint(this.buf, 0);
      const length = type && readVarint(this.buf, type.size);
      if (!type || !length) break;
      const header = type.size + length.size;
      if (type.value === FRAME.DATA) {
        frames.push({ type: FRAME.DATA, payload: Buffer.alloc(0) });
        this.buf = this.buf.subarray(header);
        this.dataLeft = length.value;
        continue;
      }
      if (length.value > MAX_FRAME_PAYLOAD) throw new H3Error(H3.EXCESSIVE_LOAD, `frame 0x${type.value.toString(16)} of ${length.value} bytes`);
      if (this.buf.length < header + length.value) break;
      frames.push({ type: type.value, payload: this.buf.subarray(header, header + length.value) });
      this.buf = this.buf.subarray(header + length.value);
    }
    return frames;
  }

  /** True when the stream may end here: no partial frame held (§7.1: a truncated frame is an error). */
  get atBoundary(): boolean {
    return this.buf.length === 0 && this.dataLeft === 0;
  }
}
