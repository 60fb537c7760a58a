import type { CloseReason, Delivery, DeliverySink } from '../contract.js';

/** A DeliverySink that records what the core sends; `full` simulates a blocked transport. */
export class RecordingSink implements DeliverySink {
  readonly deliveries: Delivery[] = [];
  readonly pubrels: number[] = [];
  readonly closedBy: CloseReason[] = [];
  full = false;

  deliver(d: Delivery): boolean {
    this.deliveries.push(d);
    return !this.full;
  }

  resendPubrel(packetId: number): void {
    this.pubrels.push(packetId);
  }

  closeBy(reason: CloseReason): void {
    this.closedBy.push(reason);
  }

  /** Topics and payloads received so far, as strings. */
  get messages(): [string, string][] {
    return this.deliveries.map((d) => [d.message.topic, d.message.payload.toString()]);
  }
}
