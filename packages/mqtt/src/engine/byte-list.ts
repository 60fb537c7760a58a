/**
 * The unread bytes of one connection, for mqtt-packet's parser: the subset of `bl`'s BufferList
 * the parser uses (`append`, `length`, `consume`, `readUInt8/16BE/32BE`, `slice`, `toString`),
 * with the same results, without its costs per connection and per byte: `bl()` builds a whole
 * readable-stream Duplex for every parser, and its `readUInt8` allocates a Buffer view for each
 * byte it reads. Here the bytes stay in the chunks the socket delivered; a consumed prefix of
 * the first chunk is an offset, not a new view.
 */
export class ByteList {
  /** Unread bytes. */
  length = 0;
  private readonly bufs: Buffer[] = [];
  /** Bytes of `bufs[0]` already consumed. */
  private head = 0;

  append(buf: Buffer): this {
    if (buf.length > 0) {
      this.bufs.push(buf);
      this.length += buf.length;
    }
    return this;
  }

  /** Drop `bytes` from the front (bl: truncated, nothing for NaN or ≤ 0). */
  consume(bytes: number): this {
    let n = Math.trunc(bytes);
    if (!(n > 0)) return this;
    const bufs = this.bufs;
    while (bufs.length > 0) {
      const avail = bufs[0]!.length - this.head;
      if (n >= avail) {
        n -= avail;
        this.length -= avail;
        bufs.shift();
        this.head = 0;
      } else {
        this.head += n;
        this.length -= n;
        break;
      }
    }
    return this;
  }

  readUInt8(offset = 0): number {
    const b = this.bufs[0];
    const p = this.head + offset;
    if (b !== undefined && offset >= 0 && p < b.length) return b[p]!;
    return this.slice(offset, offset + 1).readUInt8(0);
  }

  readUInt16BE(offset = 0): number {
    const b = this.bufs[0];
    const p = this.head + offset;
    if (b !== undefined && offset >= 0 && p + 2 <= b.length) return b.readUInt16BE(p);
    return this.slice(offset, offset + 2).readUInt16BE(0);
  }

  readUInt32BE(offset = 0): number {
    const b = this.bufs[0];
    const p = this.head + offset;
    if (b !== undefined && offset >= 0 && p + 4 <= b.length) return b.readUInt32BE(p);
    return this.slice(offset, offset + 4).readUInt32BE(0);
  }

  toString(encoding?: BufferEncoding, start?: number, end?: number): string {
    const b = this.bufs[0];
    if (b !== undefined && typeof start === 'number' && typeof end === 'number' && start >= 0 && end >= start && this.head + end <= b.length) {
      return b.toString(encoding, this.head + start, this.head + end);
    }
    return this.slice(start, end).toString(encoding);
  }

  /**
   * Bytes `start` to `end` (bl's rules: negative counts from the end, out of range is clamped,
   * an empty range is an empty Buffer). A range inside one chunk is a view of it, as in bl;
   * otherwise a copy.
   */
  slice(start?: number, end?: number): Buffer {
    const length = this.length;
    if (typeof start === 'number' && start < 0) start += length;
    if (typeof end === 'number' && end < 0) end += length;
    if (typeof start !== 'number' || start < 0) start = 0;
    if (typeof end !== 'number' || end > length) end = length;
    if (start >= length || end <= 0 || end <= start) return Buffer.alloc(0);
    const bufs = this.bufs;
    let i = 0;
    let pos = start + this.head;
    while (pos >= bufs[i]!.length) {
      pos -= bufs[i]!.length;
      i++;
    }
    const bytes = end - start;
    const first = bufs[i]!;
    if (bytes <= first.length - pos) return first.subarray(pos, pos + bytes);
    const dst = Buffer.allocUnsafe(bytes);
    let written = 0;
    while (written < bytes) {
      const chunk = bufs[i++]!;
      const n = Math.min(chunk.length - pos, bytes - written);
      chunk.copy(dst, written, pos, pos + n);
      written += n;
      pos = 0;
    }
    return dst;
  }
}
