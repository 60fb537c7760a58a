/**
 * PUBACK and PUBREC go out in the order the PUBLISH packets came [MQTT-4.6.0-2, -3], also when
 * some of them wait for the durable store: the connection goes on reading and routing later
 * messages (they join the same group commit) while their acknowledgements queue behind.
 */
type Entry = { ready: boolean; failure?: unknown; send: (failure?: unknown) => void };

export class AckOrder {
  private readonly queue: Entry[] = [];
  /** The latest durability promise waited for, and the entries waiting for it (consecutive
   * PUBLISHes of one group commit share one promise: one reaction for all of them). */
  private lastDurable: Promise<void> | undefined;
  private lastGroup: Entry[] = [];

  /**
   * Sends now when nothing waits, else after `durable` (if any) and every earlier one. When
   * `durable` rejects, `send` gets the reason (the message was not made safe).
   */
  add(send: (failure?: unknown) => void, durable?: Promise<void>): void {
    if (durable === undefined && this.queue.length === 0) return send();
    const entry: Entry = { ready: durable === undefined, send };
    this.queue.push(entry);
    if (durable === undefined) return;
    if (durable === this.lastDurable) {
      this.lastGroup.push(entry);
      return;
    }
    const group = [entry];
    this.lastDurable = durable;
    this.lastGroup = group;
    durable.then(
      () => this.settle(group, undefined),
      (err: unknown) => this.settle(group, err ?? new Error('not durable')),
    );
  }

  private settle(group: Entry[], failure: unknown): void {
    if (this.lastGroup === group) this.lastDurable = undefined;
    for (const e of group) {
      e.ready = true;
      if (failure !== undefined) e.failure = failure;
    }
    this.flush();
  }

  /** Acknowledgements still waiting. */
  get pending(): number {
    return this.queue.length;
  }

  private flush(): void {
    while (this.queue.length > 0 && this.queue[0]!.ready) {
      const e = this.queue.shift()!;
      e.send(e.failure);
    }
  }
}
