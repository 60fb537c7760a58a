/**
 * PUBACK and PUBREC go out in the order the PUBLISH packets came [MQTT-4.6.0-2, -3], also when
 * some of them wait for the durable store: the connection goes on reading and routing later
 * messages (they join the same group commit) while their acknowledgements queue behind.
 */
export class AckOrder {
  private readonly queue: { ready: boolean; failure?: unknown; send: (failure?: unknown) => void }[] = [];

  /**
   * Sends now when nothing waits, else after `durable` (if any) and every earlier one. When
   * `durable` rejects, `send` gets the reason (the message was not made safe).
   */
  add(send: (failure?: unknown) => void, durable?: Promise<void>): void {
    if (durable === undefined && this.queue.length === 0) return send();
    const entry: { ready: boolean; failure?: unknown; send: (failure?: unknown) => void } = { ready: durable === undefined, send };
    this.queue.push(entry);
    if (durable !== undefined) {
      durable.then(
        () => {
          entry.ready = true;
          this.flush();
        },
        (err: unknown) => {
          entry.ready = true;
          entry.failure = err ?? new Error('not durable');
          this.flush();
        },
      );
    }
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
