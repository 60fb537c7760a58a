/**
 * Topic ids (MQTT-SN 1.2 §6.5, §6.7). Pre-defined ids come from the configuration and are shared
 * by every client; normal ids are assigned per client by the gateway, on the client's REGISTER or
 * SUBSCRIBE or before the gateway publishes on a topic the client does not know yet (§6.10).
 * Normal ids never take a value a pre-defined id uses, so an id in a PUBACK or REGACK (which
 * carry no TopicIdType) is never ambiguous.
 */

export interface PredefinedTopic {
  readonly id: number;
  readonly topic: string;
}

/** The pre-defined topics of one gateway, by id and by name. */
export class PredefinedTopics {
  private readonly byId = new Map<number, string>();
  private readonly byName = new Map<string, number>();

  constructor(list: readonly PredefinedTopic[] = []) {
    for (const { id, topic } of list) {
      if (!Number.isInteger(id) || id < 1 || id > 0xffff) throw new RangeError(`pre-defined topic id ${id} is not in 1..65535`);
      if (this.byId.has(id)) throw new RangeError(`pre-defined topic id ${id} is given twice`);
      this.byId.set(id, topic);
      if (!this.byName.has(topic)) this.byName.set(topic, id);
    }
  }

  topic(id: number): string | undefined {
    return this.byId.get(id);
  }

  id(topic: string): number | undefined {
    return this.byName.get(topic);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  get size(): number {
    return this.byId.size;
  }
}

/** Whether a topic contains MQTT wildcard characters (a filter, not a name). */
export function isWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}

/** One client's normal topic ids, both ways. Topic names are as the client sees them (unmounted). */
export class TopicRegistry {
  private readonly byId = new Map<number, string>();
  private readonly byName = new Map<string, number>();
  private next = 1;

  constructor(private readonly predefined: PredefinedTopics) {}

  /** The id of `topic`, assigning a new one if needed; undefined when all 65535 are taken. */
  register(topic: string): number | undefined {
    const known = this.byName.get(topic);
    if (known !== undefined) return known;
    if (this.byId.size + this.predefined.size >= 0xffff) return undefined;
    let id = this.next;
    while (this.byId.has(id) || this.predefined.has(id)) id = id === 0xffff ? 1 : id + 1;
    this.next = id === 0xffff ? 1 : id + 1;
    this.byId.set(id, topic);
    this.byName.set(topic, id);
    return id;
  }

  topic(id: number): string | undefined {
    return this.byId.get(id);
  }

  id(topic: string): number | undefined {
    return this.byName.get(topic);
  }

  /** Forget a registration (the client refused it). */
  remove(id: number): void {
    const topic = this.byId.get(id);
    if (topic === undefined) return;
    this.byId.delete(id);
    this.byName.delete(topic);
  }

  get size(): number {
    return this.byId.size;
  }
}
