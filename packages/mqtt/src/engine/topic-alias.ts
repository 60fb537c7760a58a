/** Inbound topic aliases (client -> server), bounded by the Topic Alias Maximum we announced. */
export class InboundAliases {
  private readonly map = new Map<number, string>();
  constructor(readonly max: number) {}

  /**
   * Resolve a PUBLISH's topic. Returns the topic, or a reason code on misuse:
   * 0x94 for an alias of 0 or above the maximum [MQTT-3.3.2-9/10], 0x82 for an unknown alias
   * with an empty topic.
   */
  resolve(topic: string, alias: number | undefined): string | number {
    if (alias === undefined) return topic;
    if (alias === 0 || alias > this.max) return 0x94;
    if (topic.length > 0) {
      this.map.set(alias, topic);
      return topic;
    }
    return this.map.get(alias) ?? 0x82;
  }
}

/** Outbound topic aliases (server -> client), up to the client's Topic Alias Maximum. */
export class OutboundAliases {
  private readonly map = new Map<string, number>();
  constructor(readonly max: number) {}

  /** The alias to use for a topic: [alias, known]; known means the topic may be sent empty.
   * alias 0: none left. A new alias counts only once `commit`ted, after the packet is sent. */
  lookup(topic: string): [number, boolean] {
    const known = this.map.get(topic);
    if (known !== undefined) return [known, true];
    if (this.map.size >= this.max) return [0, false];
    return [this.map.size + 1, false];
  }

  commit(topic: string, alias: number): void {
    this.map.set(topic, alias);
  }
}
