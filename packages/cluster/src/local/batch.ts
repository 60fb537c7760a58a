/** Several frames in one buffer: `(u32 big-endian length, frame)*`. */

/** Collects frames for one IPC message. */
export class FrameBatch {
  private parts: Uint8Array[] = [];
  private bytes = 0;

  get size(): number {
    return this.parts.length;
  }

  add(frame: Uint8Array): void {
    this.parts.push(frame);
    this.bytes += 4 + frame.length;
  }

  /** The frames so far in one buffer; the batch is empty again. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.bytes);
    let o = 0;
    for (const p of this.parts) {
      out.writeUInt32BE(p.length, o);
      out.set(p, o + 4);
      o += 4 + p.length;
    }
    this.parts = [];
    this.bytes = 0;
    return out;
  }
}

/** A batch that is not one: a length past the end. */
export class BatchError extends Error {
  constructor(why: string) {
    super(`bad frame batch: ${why}`);
    this.name = 'BatchError';
  }
}

/** Call `fn` with each frame of a batch (views into `data`, not copies). */
export function forEachFrame(data: Uint8Array, fn: (frame: Buffer, index: number) => void): void {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let o = 0;
  for (let i = 0; o < buf.length; i++) {
    if (o + 4 > buf.length) throw new BatchError('truncated length');
    const n = buf.readUInt32BE(o);
    if (o + 4 + n > buf.length) throw new BatchError('truncated frame');
    fn(buf.subarray(o + 4, o + 4 + n), i);
    o += 4 + n;
  }
}
