import { MqttSnDecodeError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the variable part of one message; every overrun is a `MqttSnDecodeError`. */
export class Reader {
  constructor(
    private readonly buf: Buffer,
    private pos: number,
    private readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos + 1 > this.end) throw new MqttSnDecodeError('truncated');
    return this.buf[this.pos++]!;
  }

  u16(): number {
    if (this.pos + 2 > this.end) throw new MqttSnDecodeError('truncated');
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  bytes(n: number): Buffer {
    if (this.pos + n > this.end) throw new MqttSnDecodeError('truncated');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Everything up to the end of the message (a view, not a copy). */
  rest(): Buffer {
    return this.bytes(this.end - this.pos);
  }

  /** UTF-8 text up to the end of the message, or `n` bytes of it. */
  text(n = this.end - this.pos): string {
    const b = this.bytes(n);
    try {
      return utf8.decode(b);
    } catch (err) {
      throw new MqttSnDecodeError('invalid_utf8', undefined, { cause: err });
    }
  }

  /** The message must end here. */
  done(): void {
    if (this.pos !== this.end) throw new MqttSnDecodeError('trailing_bytes');
  }
}
