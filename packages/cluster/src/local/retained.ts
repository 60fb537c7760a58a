import { isSysTopic, MemoryRetainedStore, type Message } from '@junction/broker-core';
import { decodeFrame, encodeFrame, ORIGIN_BYTES } from '../frame.js';

const NO_ORIGIN = Buffer.alloc(ORIGIN_BYTES);

/**
 * A worker's retained messages: a full in-memory mirror of the hub's store, so SUBSCRIBE matches
 * locally. A local write lands here at once and goes to the hub, which applies it to its own store
 * and sends it to every worker, this one included: every mirror applies all writes in the hub's
 * order, so concurrent writes of one topic converge on the one the hub saw last.
 * Retained `$SYS/` messages stay in this worker (`$SYS` is per worker).
 */
export class LocalRetainedStore extends MemoryRetainedStore {
  constructor(
    private readonly send: (msg: { k: 'ret'; data: Uint8Array } | { k: 'retDel'; topic: string }) => void,
    opts: { maxRetained?: number } = {},
  ) {
    super(opts);
  }

  override async put(msg: Message): Promise<void> {
    this.putSync(msg);
    if (!isSysTopic(msg.topic)) this.send({ k: 'ret', data: encodeFrame(msg, NO_ORIGIN, 0) });
  }

  override async delete(topic: string): Promise<boolean> {
    const had = this.deleteSync(topic);
    if (!isSysTopic(topic)) this.send({ k: 'retDel', topic });
    return had;
  }

  /** A write from the hub (another worker's or this one's, in the hub's order). */
  applyFrame(frame: Uint8Array): void {
    const { message } = decodeFrame(frame);
    try {
      this.putSync(message);
    } catch {
      // Full: the hub's store, with the same limit, decided; this mirror keeps what it has.
    }
  }

  applyDelete(topic: string): void {
    this.deleteSync(topic);
  }
}
